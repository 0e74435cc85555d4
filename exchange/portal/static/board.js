// The live board: server-sent events (resuming with Last-Event-ID), new cards with a visual and sound cue,
// field feedback posted with the session's CSRF token.
"use strict";
(function () {
  const boardEl = document.getElementById("board");
  const alertsEl = document.getElementById("alerts");
  const liveEl = document.getElementById("live");
  const csrf = document.body.dataset.csrf;
  let unseen = 0;
  const baseTitle = document.title;

  function setLive(on, text) {
    liveEl.textContent = text;
    liveEl.classList.toggle("on", on);
    liveEl.classList.toggle("off", !on);
  }

  function beep() {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) { return; }
      const ctx = new Ctx();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "square"; osc.frequency.value = 880; gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.25);
      osc.onended = function () { ctx.close(); };
    } catch (e) { /* sound is a bonus: the visual cue stays */ }
  }

  async function fetchHtml(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    if (!response.ok) { return null; }
    return response.text();
  }

  async function refreshMap() {
    const html = await fetchHtml("/portal/fragments/map");
    if (html) { document.getElementById("map").innerHTML = html; }
  }

  async function showAlert(id, fresh) {
    const html = await fetchHtml("/portal/fragments/alert/" + encodeURIComponent(id));
    if (!html) { return; }
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const card = holder.firstElementChild;
    const old = alertsEl.querySelector('[data-alert-id="' + CSS.escape(id) + '"]');
    if (old) {
      const typing = old.querySelector("input[name=note]");
      const hadFocus = typing !== null && document.activeElement === typing;
      if (hadFocus) { card.querySelector("input[name=note]").value = typing.value; }  // keep what is being typed
      old.replaceWith(card);
      if (hadFocus) { card.querySelector("input[name=note]").focus(); }
    } else {
      const empty = alertsEl.querySelector(".empty");
      if (empty) { empty.remove(); }
      alertsEl.prepend(card);
    }
    if (fresh) {
      card.classList.add("fresh");
      beep();
      if (document.hidden) { unseen += 1; document.title = "(" + unseen + ") " + baseTitle; }
      setLive(true, liveEl.dataset.new + ": " + (card.querySelector("h2") || {}).textContent);
    }
    refreshMap();
  }

  function related(obj) {
    if (obj.type === "relationship") { return [obj.target_ref]; }
    if (obj.type === "note") { return obj.object_refs || []; }
    return [];
  }

  function connect() {
    const url = "/stream/events?types=incident,relationship,note&last_event_id=" +
      encodeURIComponent(boardEl.dataset.cursor);
    const source = new EventSource(url, { withCredentials: true });
    source.onopen = function () { setLive(true, liveEl.dataset.live); };
    source.addEventListener("object", function (message) {
      const change = JSON.parse(message.data);
      if (change.type === "incident") { showAlert(change.id, true); return; }
      related(change.object).forEach(function (id) {
        if (id && id.indexOf("incident--") === 0 &&
            alertsEl.querySelector('[data-alert-id="' + CSS.escape(id) + '"]')) { showAlert(id, false); }
      });
    });
    source.onerror = function () {
      // EventSource reconnects by itself with Last-Event-ID; it gives up only on an HTTP error (session ended).
      if (source.readyState === EventSource.CLOSED) { setLive(false, liveEl.dataset.ended); }
      else { setLive(false, liveEl.dataset.reconnecting); }
    };
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { unseen = 0; document.title = baseTitle; }
  });

  alertsEl.addEventListener("submit", async function (event) {
    const form = event.target.closest("form.ack");
    if (!form) { return; }
    event.preventDefault();
    const button = event.submitter;
    const out = form.querySelector(".sent");
    button.disabled = true;
    try {
      const response = await fetch("/portal/alerts/" + encodeURIComponent(form.dataset.alert) + "/feedback", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ status: button.value, note: form.elements.note.value }),
      });
      const data = await response.json().catch(function () { return {}; });
      out.textContent = response.ok ? button.textContent + " ✓" : (data.description || data.title || response.status);
      if (response.ok) { showAlert(form.dataset.alert, false); }
    } finally { button.disabled = false; }
  });

  connect();
})();
