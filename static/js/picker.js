/* The record picker (crm/pickers.py): turns every <select data-picker="URL"> into a searchable
 * Tom Select that loads pages of {"results": [{"id", "text"}], "more": bool} from URL as the user
 * types or scrolls. The select's other data attributes:
 *   data-picker-params    fixed query parameters, as JSON ({"role": "responsible"})
 *   data-picker-depends   names of other fields of the form sent along (client); when one of
 *                         them changes the picker is emptied and loads again
 *   data-picker-requires  parameters without which there is nothing to list: no request then
 *   data-placeholder, data-msg-*  the texts, in the page's language
 * Without JavaScript the select keeps its one selected option and a text box takes a search.
 */
(function () {
  "use strict";

  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text || "";
    return div.innerHTML;
  }

  function words(value) {
    return (value || "").split(" ").filter(Boolean);
  }

  // the value of a field of the select's form (a select, a hidden input...) by name
  function fieldValue(select, name) {
    const form = select.form;
    const field = form ? form.elements.namedItem(name) : null;
    return field && "value" in field ? field.value : "";
  }

  function queryParams(select) {
    const params = JSON.parse(select.dataset.pickerParams || "{}");
    for (const name of words(select.dataset.pickerDepends)) {
      const value = fieldValue(select, name);
      if (value) params[name] = value;
    }
    return params;
  }

  function missing(select) {
    const params = queryParams(select);
    return words(select.dataset.pickerRequires).some((name) => !params[name]);
  }

  function pageUrl(select, query, page) {
    const url = new URL(select.dataset.picker, window.location.href);
    const params = queryParams(select);
    for (const name of Object.keys(params)) url.searchParams.set(name, params[name]);
    if (query) url.searchParams.set("q", query);
    url.searchParams.set("page", String(page));
    return url.toString();
  }


  function init(select) {
    if (select.tomselect || select.disabled) return;
    const optional = select.dataset.pickerRequired !== "1";
    const settings = {
      valueField: "id",
      labelField: "text",
      searchField: [],
      // the server searched: show its rows as they come, in its order
      score: function () {
        return function () {
          return 1;
        };
      },
      maxOptions: null,
      preload: "focus",
      loadThrottle: 250,
      placeholder: select.dataset.placeholder || "",
      allowEmptyOption: false,
      plugins: optional ? ["virtual_scroll", "clear_button"] : ["virtual_scroll"],
      firstUrl: function (query) {
        return pageUrl(select, query, 1);
      },
      shouldLoad: function () {
        return !missing(select);
      },
      load: function (query, callback) {
        const url = this.getUrl(query);
        const self = this;
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            return response.ok ? response.json() : { results: [], more: false };
          })
          .then(function (data) {
            if (data.more) {
              const next = new URL(url);
              next.searchParams.set("page", String(Number(next.searchParams.get("page")) + 1));
              self.setNextUrl(query, next.toString());
            }
            callback(data.results || []);
          })
          .catch(function () {
            callback();
          });
      },
      render: {
        no_results: function () {
          return '<div class="no-results">' + escapeHtml(select.dataset.msgNone || "") + "</div>";
        },
        loading_more: function () {
          return (
            '<div class="loading-more-results py-2 d-flex align-items-center">' +
            escapeHtml(select.dataset.msgMore || "…") +
            "</div>"
          );
        },
        no_more_results: function () {
          return '<div class="no-more-results py-2 text-muted small">' +
            escapeHtml(select.dataset.msgEnd || "") + "</div>";
        },
      },
    };
    const waiting = missing(select);
    if (waiting) {
      // nothing to list until a required field is filled in: say so, and wait
      settings.preload = false;
      settings.placeholder = select.dataset.msgWait || settings.placeholder;
      select.dataset.pickerWaiting = "1";
    }
    const picker = new TomSelect(select, settings);
    if (waiting) picker.disable();
  }

  // A field this picker depends on changed: empty it and start afresh (its cached pages
  // were for the old value).
  function reset(select) {
    if (select.tomselect) select.tomselect.destroy();
    if (select.dataset.pickerWaiting) {
      select.disabled = false;
      delete select.dataset.pickerWaiting;
    }
    for (const option of Array.from(select.options)) {
      if (option.value !== "") option.remove();
    }
    select.value = "";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    init(select);
  }

  function scan(root) {
    root.querySelectorAll("select[data-picker]").forEach(init);
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (!target || !target.name || !target.form) return;
    target.form.querySelectorAll("select[data-picker-depends]").forEach(function (select) {
      if (select !== target && words(select.dataset.pickerDepends).includes(target.name)) {
        reset(select);
      }
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    scan(document);
  });
  // forms that htmx swaps into a page
  document.addEventListener("htmx:load", function (event) {
    scan(event.detail.elt.querySelectorAll ? event.detail.elt : document);
  });
})();
