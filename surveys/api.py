"""The surveys REST API (questionnaires, campaigns, invitations, answers, analytics): to come with
the manager pages. The module exists so the layer contract of the app holds from the start."""
