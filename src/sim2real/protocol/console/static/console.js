// Keyboard shortcuts for the operator, and a reload when a run ends. No framework, no build.
(function () {
  const click = (id) => { const el = document.getElementById(id); if (el && !el.disabled) el.click(); };
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA"].includes(event.target.tagName);
    if (event.key === "Escape" && typing) { event.target.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const keys = { s: "success", f: "failure", r: "start" };
    if (keys[event.key]) { event.preventDefault(); click(keys[event.key]); }
    else if (event.key === "a") {
      event.preventDefault();
      const reason = document.getElementById("reason");
      if (reason && reason.value.trim()) click("abort-button"); else if (reason) reason.focus();
    } else if (event.key === "n") { event.preventDefault(); const n = document.getElementById("notes"); if (n) n.focus(); }
  });
  const trial = document.getElementById("trial");
  if (trial && trial.dataset.running === "yes") {
    const poll = () => fetch("/api/state").then((r) => r.json()).then((state) => {
      if (!state.running) location.reload(); else setTimeout(poll, 500);
    }).catch(() => setTimeout(poll, 1000));
    setTimeout(poll, 500);
  }
})();
