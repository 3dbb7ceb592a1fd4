"""Message ids that only exist so that ``pybabel extract`` keeps them in our catalogue.

Nothing imports this module at run time.  ``scripts/i18n.sh`` extracts over
``app/``; without this list, ``pybabel update`` would mark the entries below
obsolete because no code of ours calls ``_()`` with them.

* ``FAB_GAPS``: msgids Flask-AppBuilder 5.3.0 uses (its python and templates)
  that its ``zh`` catalogue leaves untranslated or only fuzzy (fuzzy entries
  are not compiled into its ``.mo``).  Our catalogue is merged over FAB's
  (``BABEL_TRANSLATION_DIRECTORIES = <fab>/translations;app/translations``),
  so translating them here fills the gap.
* ``FAB_REVISED``: msgids FAB does translate, but wrongly or in a different
  register than government admin software uses (e.g. "Starts with" → 以开始,
  "Integrity error, probably unique constraint" → "...缺少必填字段数据",
  "Logout" → 注销).  Ours take precedence.
* ``TEMPLATE_OVERRIDES``: "OK"/"Cancel" are hard-coded English in FAB's
  ``general/confirm.html``/``alert.html``; our overrides in
  ``app/templates/appbuilder/general/`` call ``_()`` (listed here as well so
  the catalogue does not depend on the template copies).
* ``APP_STRINGS``: Jiefen's own UI strings.

``tests/app/test_i18n_catalogue.py`` checks that every FAB msgid ends up
with a Chinese translation.
"""

from flask_babel import lazy_gettext

FAB_GAPS = (
    lazy_gettext("Add"),
    lazy_gettext("Edit"),
    lazy_gettext("Show"),
    lazy_gettext("Delete"),
    lazy_gettext("Are you sure you want to delete this item?"),
    lazy_gettext("Database Error"),
    lazy_gettext("Not a valid choice"),
    lazy_gettext(
        "Must have at least two capital letters, one special character, two digits, "
        "three lower case letters and a minimal length of 10."
    ),
    lazy_gettext("Contains (insensitive)"),
    lazy_gettext("Start with"),
    lazy_gettext("In"),
    lazy_gettext("Not In"),
    lazy_gettext("Either select a role or a group"),
    lazy_gettext("Groups"),
    lazy_gettext("List Groups"),
    lazy_gettext("Show Group"),
    lazy_gettext("Add Group"),
    lazy_gettext("Edit Group"),
    lazy_gettext("User(s) exists in the group, cannot delete"),
    lazy_gettext("User(s) exists in the role, cannot delete"),
    lazy_gettext("Edit User Information"),
    lazy_gettext("User information changed"),
    lazy_gettext("The user's password for authentication"),
    lazy_gettext("It's not a good policy to remove a user, just make it inactive"),
    lazy_gettext("Sign In with "),
)

FAB_REVISED = (
    lazy_gettext("Access is Denied"),
    lazy_gettext("Added Row"),
    lazy_gettext("Changed Row"),
    lazy_gettext("Deleted Row"),
    lazy_gettext("Integrity error, probably unique constraint"),
    lazy_gettext("Back"),
    lazy_gettext("This field is required."),
    lazy_gettext("Already exists."),
    lazy_gettext("Starts with"),
    lazy_gettext("Not Starts with"),
    lazy_gettext("Ends with"),
    lazy_gettext("Not Ends with"),
    lazy_gettext("Relation"),
    lazy_gettext("No Relation"),
    lazy_gettext("Relation as Many"),
    lazy_gettext("Security"),
    lazy_gettext("User Registrations"),
    lazy_gettext("List Base Permissions"),
    lazy_gettext("Show Base Permission"),
    lazy_gettext("Add Base Permission"),
    lazy_gettext("List View Menus"),
    lazy_gettext("Show View Menu"),
    lazy_gettext("Add View Menu"),
    lazy_gettext("Show Permission on Views/Menus"),
    lazy_gettext("Add Permission on Views/Menus"),
    lazy_gettext("Show User"),
    lazy_gettext("Add User"),
    lazy_gettext("Show Role"),
    lazy_gettext("Add Role"),
    lazy_gettext("Show Registration"),
    lazy_gettext("Account activation"),
    lazy_gettext("Registration not found"),
    lazy_gettext("Fill out the registration form"),
    lazy_gettext("Reset Password Form"),
    lazy_gettext("Reset my password"),
    lazy_gettext("Reset Password"),
    lazy_gettext("Password Changed"),
    lazy_gettext("Full Name"),
    lazy_gettext("Is Active?"),
    lazy_gettext("Last login"),
    lazy_gettext("Failed login count"),
    lazy_gettext("Created on"),
    lazy_gettext("Created by"),
    lazy_gettext("Changed on"),
    lazy_gettext("Changed by"),
    lazy_gettext("Your user information"),
    lazy_gettext("Invalid login. Please try again."),
    lazy_gettext("Profile"),
    lazy_gettext("Logout"),
    lazy_gettext("Page size"),
    lazy_gettext("Record Count"),
    lazy_gettext("Add a new record"),
    lazy_gettext("Show record"),
    lazy_gettext("Add Filter"),
    lazy_gettext("Detail"),
    lazy_gettext("Enter your login and password below"),
    lazy_gettext("User confirmation needed"),
    lazy_gettext("Copy the selected roles?"),
)

TEMPLATE_OVERRIDES = (
    lazy_gettext("OK"),
    lazy_gettext("Cancel"),
)

APP_STRINGS = (
    lazy_gettext("Yes"),
    lazy_gettext("No"),
    # shown for an empty value in list/show views (same glyph in both languages)
    lazy_gettext("—"),
    lazy_gettext("No data"),
    lazy_gettext("Demo data"),
    lazy_gettext("This system contains demo data only"),
    lazy_gettext("Configuration check failed"),
    lazy_gettext("Language"),
    lazy_gettext("Switch language"),
    # language names are shown in their own language (endonyms)
    lazy_gettext("Simplified Chinese"),
    lazy_gettext("English"),
    lazy_gettext("Home"),
    lazy_gettext("List"),
    lazy_gettext("Refresh"),
    lazy_gettext("Filter"),
    lazy_gettext("Reset"),
    lazy_gettext("Export"),
    lazy_gettext("Submit"),
    lazy_gettext("Close"),
    lazy_gettext("Page not found"),
    lazy_gettext("Server error"),
)
