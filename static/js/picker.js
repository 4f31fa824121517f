// Pickers: a typed-code input (SKU, bin, batch...) that lists matches as you type, from the
// lookup endpoint named in data-picker (JSON). Keyboard first: ArrowDown/ArrowUp move, Enter takes
// the highlighted option (without submitting the form), Escape closes. A scanner's code + Enter
// with the list closed submits as before. Works for inputs added later by htmx.
(function () {
  "use strict";
  if (window.wmsPicker) { return; }
  window.wmsPicker = true;

  function params(input) {
    var query = new URLSearchParams({ q: input.value.trim(), limit: "12" });
    (input.dataset.pickerFields || "").split(",").filter(Boolean).forEach(function (pair) {
      var parts = pair.split(":");
      var field = document.getElementById(parts[1]);
      if (field && field.value) { query.set(parts[0], field.value); }
    });
    (input.dataset.pickerFixed || "").split(",").filter(Boolean).forEach(function (pair) {
      var parts = pair.split(":");
      query.set(parts[0], parts[1]);
    });
    return query;
  }

  function listOf(input) { return document.getElementById(input.getAttribute("aria-controls")); }

  function close(input) {
    var list = listOf(input);
    if (list) { list.hidden = true; list.textContent = ""; }
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function highlight(input, index) {
    var options = listOf(input).querySelectorAll("[role=option]");
    if (!options.length) { return; }
    index = (index + options.length) % options.length;
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }

  function current(input) {
    return listOf(input).querySelector("[role=option][aria-selected=true]");
  }

  function choose(input, option) {
    input.value = option.dataset.value;
    close(input);
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.dispatchEvent(new CustomEvent("picker:chosen", { bubbles: true, detail: { id: option.dataset.id, value: option.dataset.value } }));
  }

  function render(input, data) {
    var list = listOf(input);
    list.textContent = "";
    data.results.forEach(function (result) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.id = input.id + "-opt-" + result.id;
      li.dataset.value = result.value;
      li.dataset.id = result.id;
      var strong = document.createElement("strong");
      strong.textContent = result.label;
      li.appendChild(strong);
      if (result.detail) {
        var detail = document.createElement("span");
        detail.className = "muted";
        detail.textContent = " " + result.detail;
        li.appendChild(detail);
      }
      list.appendChild(li);
    });
    if (!data.results.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.setAttribute("role", "presentation");
      none.textContent = input.dataset.pickerEmpty || "—";
      list.appendChild(none);
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  var timers = new WeakMap();
  var serial = new WeakMap();

  function search(input) {
    var number = (serial.get(input) || 0) + 1;
    serial.set(input, number);
    fetch(input.dataset.picker + "?" + params(input).toString(), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    }).then(function (response) {
      return response.ok ? response.json() : { results: [] };
    }).then(function (data) {
      if (serial.get(input) === number && document.activeElement === input) { render(input, data); }
    }).catch(function () { close(input); });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-picker]")) { return; }
    clearTimeout(timers.get(input));
    if (!input.value.trim()) { close(input); return; }
    timers.set(input, setTimeout(function () { search(input); }, 150));
  });

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-picker]")) { return; }
    var list = listOf(input);
    var open = list && !list.hidden;
    var options = open ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : [];
    var index = options.indexOf(current(input));
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open) { search(input); } else { highlight(input, index + 1); }
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(input, index - 1);
    } else if (event.key === "Enter" && open && index >= 0) {
      event.preventDefault();
      choose(input, options[index]);
    } else if (event.key === "Enter" || event.key === "Escape" || event.key === "Tab") {
      clearTimeout(timers.get(input));
      serial.set(input, (serial.get(input) || 0) + 1);
      close(input);
    }
  });

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest(".picker-options [role=option]");
    if (!option) { return; }
    event.preventDefault();
    var input = document.querySelector("[aria-controls='" + option.parentNode.id + "']");
    if (input) { choose(input, option); }
  });

  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[data-picker]")) {
      setTimeout(function () { if (document.activeElement !== input) { close(input); } }, 100);
    }
  });
})();
