// The project's own script: htmx settings shared by every page. No build step.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) { return; }
  // Invalid forms come back as 422 with the re-rendered form: swap them in like a 200.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];
});
