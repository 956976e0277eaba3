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
  // The live head camera: poll the newest frame's number, reload the JPEG (with this trial's
  // placement markers) only when it changed.
  const live = document.getElementById("live");
  if (live) {
    const image = document.getElementById("live-image"), status = document.getElementById("live-status");
    const index = live.dataset.trial;
    let shown = null;
    const pollCamera = () => fetch(`/api/camera?trial=${index}`).then((r) => r.json()).then((camera) => {
      if (camera.error) status.textContent = `head camera: ${camera.error}`;
      if (camera.frame !== null && camera.frame !== shown) {
        shown = camera.frame;
        image.src = `/camera/head.jpg?trial=${index}&frame=${camera.frame}`;
        image.hidden = false;
        image.dataset.frame = camera.frame;
        image.dataset.source = camera.source;
        status.textContent = `head camera (${camera.source === "run" ? "live, during the run" : "between runs"}), ` +
          `frame ${camera.frame}, ${camera.width} x ${camera.height}`;
      }
      setTimeout(pollCamera, 250);
    }).catch(() => setTimeout(pollCamera, 1000));
    pollCamera();
  }
  const trial = document.getElementById("trial");
  if (trial && trial.dataset.running === "yes") {
    const poll = () => fetch("/api/state").then((r) => r.json()).then((state) => {
      if (!state.running) location.reload(); else setTimeout(poll, 500);
    }).catch(() => setTimeout(poll, 1000));
    setTimeout(poll, 500);
  }
})();
