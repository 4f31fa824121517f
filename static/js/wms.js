// The project's own script: htmx settings and the layout's small behaviours shared by every
// page (side navigation, folding list filters with chips, list rows as cards on a phone, the
// top-bar scan box). No build step; every page works without it, only less conveniently.
document.addEventListener("DOMContentLoaded", function () {
  if (window.htmx) {
    // Invalid forms come back as 422 with the re-rendered form: swap them in like a 200.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true },
      { code: "[45]..", swap: false, error: true },
    ];
  }
  markCurrentPage();
  wireMenuButton();
  enhance(document);
  if (window.htmx) { htmx.onLoad(enhance); }
});

function enhance(root) {
  foldFilters(root);
  labelCards(root);
  showApplicableFields(root);
}

// Forms show only the fields that apply: an input with data-show-if="kind=near_expiry" or
// "release_mode=at_time;kind!=near_expiry" (every condition must hold; a field the form does
// not have counts as holding) shows its .field only then. The server ignores hidden values.
function showApplicableFields(root) {
  root.querySelectorAll("form").forEach(function (form) {
    var dependants = form.querySelectorAll("[data-show-if]");
    if (!dependants.length || form.hasAttribute("data-show-if-wired")) { return; }
    form.setAttribute("data-show-if-wired", "");
    var update = function () {
      dependants.forEach(function (input) {
        var applies = input.getAttribute("data-show-if").split(";").every(function (condition) {
          var negate = condition.indexOf("!=") > 0;
          var parts = condition.split(negate ? "!=" : "=");
          var field = form.elements[parts[0]];
          if (!field) { return true; }
          var matches = parts[1].split("|").indexOf(field.value) >= 0;
          return negate ? !matches : matches;
        });
        var wrapper = input.closest(".field") || input.parentNode;
        wrapper.hidden = !applies;
      });
    };
    form.addEventListener("change", update);
    update();
  });
}

// The side navigation: the link of the current page (the longest matching path) is marked.
function markCurrentPage() {
  var nav = document.getElementById("sidenav");
  if (!nav) { return; }
  var path = window.location.pathname, best = null, bestLength = -1;
  nav.querySelectorAll("a[href]").forEach(function (link) {
    var target = new URL(link.href, window.location.href).pathname;
    var matches = target === "/" ? path === "/" : path.indexOf(target) === 0;
    if (matches && target.length > bestLength) { best = link; bestLength = target.length; }
  });
  if (best) { best.setAttribute("aria-current", "page"); }
}

// On narrow screens the navigation opens from the menu button (without script: #sidenav).
function wireMenuButton() {
  var button = document.querySelector(".menu-button");
  var nav = document.getElementById("sidenav");
  if (!button || !nav) { return; }
  button.addEventListener("click", function (event) {
    event.preventDefault();
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      nav.classList.remove("open");
      button.setAttribute("aria-expanded", "false");
    }
  });
}

// List filters: on a phone they fold behind one button; the active ones show as chips that
// remove themselves (and refresh the list) when tapped.
function foldFilters(root) {
  var body = document.body.dataset;
  root.querySelectorAll("form.filters:not([data-folded])").forEach(function (form, index) {
    form.setAttribute("data-folded", "");
    if (!form.id) { form.id = "filters-" + index; }
    var bar = document.createElement("div");
    bar.className = "filter-bar";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "filter-toggle";
    toggle.setAttribute("aria-controls", form.id);
    toggle.setAttribute("aria-expanded", "false");
    var chips = document.createElement("ul");
    chips.className = "filter-chips";
    chips.setAttribute("aria-label", body.activeFiltersLabel || "Active filters");
    bar.appendChild(toggle);
    bar.appendChild(chips);
    form.parentNode.insertBefore(bar, form);
    form.classList.add("foldable");
    toggle.addEventListener("click", function () {
      var open = form.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    var render = function () { renderChips(form, toggle, chips); };
    form.addEventListener("change", render);
    form.addEventListener("input", render);
    render();
  });
}

function activeFields(form) {
  var active = [];
  form.querySelectorAll("input, select").forEach(function (field) {
    if (!field.name || field.type === "hidden" || field.type === "submit" || field.disabled) { return; }
    var label = form.querySelector('label[for="' + field.id + '"]');
    var name = label ? label.textContent.replace(/[:：]\s*$/, "").trim() : field.name;
    if (field.type === "checkbox" || field.type === "radio") {
      if (field.checked) { active.push({ field: field, text: name }); }
    } else if (field.tagName === "SELECT") {
      // A select without an empty choice is a view mode (group by), not a filter.
      var hasEmpty = Array.prototype.some.call(field.options, function (o) { return o.value === ""; });
      if (hasEmpty && field.value !== "") {
        active.push({ field: field, text: name + ": " + field.options[field.selectedIndex].text });
      }
    } else if (field.value.trim() !== "") {
      active.push({ field: field, text: name + ": " + field.value.trim() });
    }
  });
  return active;
}

function renderChips(form, toggle, chips) {
  var body = document.body.dataset;
  var active = activeFields(form);
  toggle.textContent = (body.filtersLabel || "Filters") + (active.length ? " (" + active.length + ")" : "");
  chips.textContent = "";
  active.forEach(function (item) {
    var li = document.createElement("li");
    var chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.textContent = item.text + " ×";
    chip.setAttribute("aria-label", (body.removeFilterLabel || "Remove filter") + ": " + item.text);
    chip.addEventListener("click", function () {
      var field = item.field;
      if (field.type === "checkbox" || field.type === "radio") { field.checked = false; } else { field.value = ""; }
      field.dispatchEvent(new Event("change", { bubbles: true }));
      if (!form.hasAttribute("hx-get") && !form.hasAttribute("hx-post")) { form.requestSubmit(); }
    });
    li.appendChild(chip);
    chips.appendChild(li);
  });
}

// Tables marked "cards" become one card per row on a phone: each cell is labelled with its
// column's heading (CSS shows the label; the cells' classes order what leads).
function labelCards(root) {
  var tables = root.matches && root.matches("table.cards") ? [root] : [];
  root.querySelectorAll("table.cards").forEach(function (t) { tables.push(t); });
  if (root.closest) {
    var owner = root.closest("table.cards");
    if (owner && tables.indexOf(owner) < 0) { tables.push(owner); }
  }
  tables.forEach(function (table) {
    var headings = [];
    table.querySelectorAll("thead th").forEach(function (th) {
      var span = parseInt(th.getAttribute("colspan") || "1", 10);
      for (var i = 0; i < span; i++) { headings.push(th.textContent.trim()); }
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        var span = parseInt(cell.getAttribute("colspan") || "1", 10);
        if (span === 1 && headings[column] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", headings[column]);
        }
        column += span;
      });
    });
  });
}
