"""What the user sees: the base classes of every generated screen (``model_view``) and REST API
(``model_api``), Excel export, the navbar, the home page and the Jinja/i18n glue.

The UI asks the access package for every decision and every value it shows.
"""
