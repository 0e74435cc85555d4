// Compliance tools over the /compliance API: who can see an object (and why), audit search and export.
"use strict";
(function () {
  const out = document.getElementById("out");

  async function show(url) {
    out.textContent = "…";
    const response = await fetch(url, { credentials: "same-origin" });
    const text = await response.text();
    try { out.textContent = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { out.textContent = text; }
  }

  document.getElementById("who").addEventListener("submit", function (event) {
    event.preventDefault();
    const id = encodeURIComponent(this.elements.object.value.trim());
    const org = this.elements.org.value;
    show(org ? "/compliance/objects/" + id + "/explain?org=" + encodeURIComponent(org)
             : "/compliance/objects/" + id + "/audience");
  });
  document.getElementById("audit").addEventListener("submit", function (event) {
    event.preventDefault();
    const since = this.elements.since.value.trim();
    const url = "/compliance/audit" + (since ? "?since=" + encodeURIComponent(since) : "");
    document.getElementById("export").href = url;
    show(url);
  });
})();
