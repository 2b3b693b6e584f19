// The dashboard's only script: live refresh of the Server view, the rule picker's completions, the affected
// highlight and the undo confirmation. No inline script anywhere (the Content-Security-Policy forbids it).
"use strict";

function refreshEvery(element) {
  const every = Number(element.dataset.every || 2000);
  const tick = async () => {
    try {
      const answer = await fetch(element.dataset.src, { credentials: "same-origin", cache: "no-store" });
      if (answer.ok) {
        element.innerHTML = await answer.text();
        element.dataset.refreshed = String(Number(element.dataset.refreshed || 0) + 1);
      }
    } catch (error) {
      // the server went away: try again at the next tick
    }
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
}

function completePaths(input) {
  const list = document.getElementById("suggestions");
  let pending = 0;
  const show = async () => {
    const mine = ++pending;
    const query = input.value.trim();
    if (!query) { list.replaceChildren(); return; }
    const answer = await fetch(`${input.dataset.complete}?q=${encodeURIComponent(query)}`, { credentials: "same-origin" });
    if (!answer.ok || mine !== pending) return;
    const paths = await answer.json();
    list.replaceChildren(...paths.map((path) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = path;
      button.dataset.path = path;
      button.addEventListener("click", () => {
        input.value = path;
        list.replaceChildren();
        input.form.submit();
      });
      item.append(button);
      return item;
    }));
  };
  input.addEventListener("input", show);
  input.addEventListener("keydown", (event) => { if (event.key === "Escape") list.replaceChildren(); });
  // Typed before this script ran (a slow page load): no input event will come for it, so complete it now.
  if (input.value !== input.defaultValue) show();
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live) refreshEvery(live);
  const path = document.querySelector("input[data-complete]");
  if (path) completePaths(path);
  const highlight = document.getElementById("highlight");
  if (highlight) {
    highlight.addEventListener("click", () => {
      const graph = document.getElementById(highlight.dataset.target);
      const on = graph.classList.toggle("show-affected");
      highlight.setAttribute("aria-pressed", String(on));
    });
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
