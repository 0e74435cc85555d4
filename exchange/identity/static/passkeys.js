// Passkey ceremonies of the POP-ART Exchange pages: register from an invitation, add a passkey, log in.
"use strict";
(function () {
  const main = document.getElementById("passkeys");
  const status = document.getElementById("status");

  function say(text) { if (status) { status.textContent = text; } }

  function toB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromB64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    const raw = atob(b64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  async function post(url, body) {
    const headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (main && main.dataset.csrf) { headers["X-CSRF-Token"] = main.dataset.csrf; }
    const response = await fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body),
                                         credentials: "same-origin" });
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) { throw new Error(data.description || data.title || ("HTTP " + response.status)); }
    return data;
  }

  function descriptors(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: fromB64url(c.id) }); });
  }

  async function register(invitation) {
    say("Creating a passkey…");
    const base = invitation ? { invitation: invitation } : {};
    const options = await post("/auth/passkeys/register/options", base);
    options.challenge = fromB64url(options.challenge);
    options.user.id = fromB64url(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    const credential = await navigator.credentials.create({ publicKey: options });
    const response = credential.response;
    const payload = {
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64url(response.clientDataJSON),
        attestationObject: toB64url(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : [],
      },
    };
    const name = navigator.platform ? ("passkey on " + navigator.platform) : "passkey";
    const done = await post("/auth/passkeys/register", Object.assign({ credential: payload, name: name }, base));
    say("Passkey created.");
    window.location.assign(done.redirect || "/portal/me");
  }

  async function login() {
    say("Waiting for your passkey…");
    const options = await post("/auth/passkeys/login/options", {});
    options.challenge = fromB64url(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    const credential = await navigator.credentials.get({ publicKey: options });
    const response = credential.response;
    const payload = {
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64url(response.clientDataJSON),
        authenticatorData: toB64url(response.authenticatorData),
        signature: toB64url(response.signature),
        userHandle: response.userHandle ? toB64url(response.userHandle) : undefined,
      },
    };
    const done = await post("/auth/passkeys/login", { credential: payload });
    say("Logged in.");
    window.location.assign(done.redirect || "/portal/me");
  }

  function wire(id, action) {
    const button = document.getElementById(id);
    if (!button) { return; }
    button.addEventListener("click", function () {
      action().catch(function (error) { say("Failed: " + error.message); });
    });
  }

  wire("register", function () { return register(main.dataset.invitation); });
  wire("add-passkey", function () { return register(null); });
  wire("login", login);
})();
