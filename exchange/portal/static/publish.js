// The coordinator's form: preview who will receive the alert (the policy's decision), then publish.
"use strict";
(function () {
  const form = document.getElementById("publish");
  const list = document.getElementById("audience");
  const result = document.getElementById("result");
  const csrf = document.body.dataset.csrf;

  function payload() {
    const data = {};
    ["name", "description", "categories", "criticality", "venue", "zone", "municipality", "tlp",
     "widened_areas", "guidance_title", "guidance_text", "collection"].forEach(function (key) {
      data[key] = form.elements[key].value;
    });
    const detection = form.elements.detection;
    data.detections = detection && detection.value ? [detection.value] : [];
    data.recipients = Array.from(form.querySelectorAll('input[name="recipients"]:checked')).map(function (box) {
      return box.value;
    });
    return data;
  }

  async function post(url) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(payload()),
    });
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) { throw new Error(data.description || data.title || ("HTTP " + response.status)); }
    return data;
  }

  async function preview() {
    list.replaceChildren();
    try {
      const data = await post("/portal/publish/preview");
      if (!data.audience.length) {
        const li = document.createElement("li"); li.textContent = list.dataset.nobody; list.append(li);
      }
      data.audience.forEach(function (entry) {
        const li = document.createElement("li");
        li.dataset.org = entry.org_id;
        const roles = entry.roles.indexOf("*") >= 0 ? list.dataset.allRoles : entry.roles.join(", ");
        li.textContent = entry.name + " — " + roles + (entry.from ? " (" + entry.from + ")" : "");
        list.append(li);
      });
      result.textContent = "";
    } catch (error) { result.textContent = error.message; }
  }

  const detection = form.elements.detection;
  if (detection) {
    detection.addEventListener("change", function () {  // promoting a detection fills in what it knows
      const chosen = detection.selectedOptions[0];
      if (!chosen || !chosen.value) { return; }
      const d = chosen.dataset;
      form.elements.categories.value = d.category;
      form.elements.zone.value = d.zone;
      form.elements.venue.value = d.venue;
      form.elements.municipality.value = d.municipality;
      if (!form.elements.name.value) { form.elements.name.value = d.category + (d.zone ? " — " + d.zone : ""); }
    });
  }

  document.getElementById("preview").addEventListener("click", function () {
    if (form.reportValidity()) { preview(); }
  });
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    await preview();
    try {
      const data = await post("/portal/publish");
      result.dataset.alertId = data.id;
      result.textContent = result.dataset.published + ": " + data.id;
    } catch (error) { result.textContent = error.message; }
  });
})();
