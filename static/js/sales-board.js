/* The pipeline board: drag a card to another column (SortableJS), or choose the stage in the
   card's select and press "Move" (keyboard). Either way the move is POSTed with htmx to the
   card's move URL with the version the page showed; the answer is the refreshed card and the
   figures of the two columns it left and entered (out of band). A refused move (someone else moved the deal, a rule of the
   pipeline) puts the card back where it was and shows the server's message. A drop on "lost"
   opens the lose form (a refusal category and a note are required). Without JavaScript the
   card's form posts itself and the page comes back. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || typeof Sortable === "undefined" || typeof htmx === "undefined") {
    return;
  }
  var status = document.getElementById("board-status");

  function say(text, kind) {
    if (!status) return;
    status.textContent = text || "";
    status.className = "alert py-1 small alert-" + (kind || "info");
    status.hidden = !text;
  }

  function putBack(card) {
    var from = card._from;
    if (!from) return;
    var ref = from.children[card._index] || null;
    if (ref === card) return;
    from.insertBefore(card, ref);
  }

  function send(card, list) {
    if (list.dataset.kind === "lost") {
      putBack(card);
      window.location.href = card.dataset.loseUrl;
      return;
    }
    card.classList.add("deal-moving");
    say("", "info");
    htmx.ajax("POST", card.dataset.moveUrl, {
      source: card,
      target: card,
      swap: "outerHTML",
      values: {
        stage: list.dataset.stage,
        version: card.dataset.version,
        filters: board.dataset.filters || "",
        next: board.dataset.here || ""
      }
    });
  }

  document.body.addEventListener("htmx:afterRequest", function (evt) {
    var card = evt.detail.elt;
    if (!card || !card.classList || !card.classList.contains("deal-card")) return;
    card.classList.remove("deal-moving");
    if (!evt.detail.successful) {
      putBack(card);
      var xhr = evt.detail.xhr;
      say((xhr && xhr.responseText) || board.dataset.failed || "Error", "danger");
    }
  });

  // after a move from the keyboard, the focus goes to the moved card's select
  var focusId = null;
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!focusId) return;
    var fresh = document.getElementById(focusId);
    focusId = null;
    var select = fresh && fresh.querySelector("select");
    if (select) select.focus();
  });

  function remember(card) {
    card._from = card.parentElement;
    card._index = Array.prototype.indexOf.call(card._from.children, card);
  }

  board.querySelectorAll(".board-cards").forEach(function (list) {
    Sortable.create(list, {
      group: "deals",
      draggable: ".deal-card[data-open]",
      filter: "a, select, button, input, label",
      preventOnFilter: false,
      animation: 120,
      onStart: function (evt) {
        remember(evt.item);
      },
      onEnd: function (evt) {
        if (evt.to === evt.from) return;
        send(evt.item, evt.to);
      }
    });
  });

  // the card's select + "Move": the same move without dragging
  board.addEventListener("submit", function (evt) {
    var form = evt.target.closest("form.deal-move");
    if (!form) return;
    var card = form.closest(".deal-card");
    var list = board.querySelector('.board-cards[data-stage="' + form.elements.stage.value + '"]');
    if (!card || !list) return; // the form posts itself
    evt.preventDefault();
    remember(card);
    focusId = card.id;
    if (list.dataset.kind !== "lost") {
      list.insertBefore(card, list.firstChild);
      card.scrollIntoView({block: "nearest", inline: "nearest"});
    }
    send(card, list);
  });
})();
