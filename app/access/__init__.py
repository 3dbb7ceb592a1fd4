"""The boundary: every access decision and every value that crosses an entity's edge.

* ``rules``       which rows a user may read or write (scopes from roles.yaml × entities.yaml);
* ``masking``, ``reveal``  personal data masked everywhere, shown in clear only by an audited reveal;
* ``formatting``  stored values as a person reads them (pure Python);
* ``validation``  field rules from the spec for forms and REST payloads.

Modules here import nothing of the UI; the audit trail is the only package they write to.  The
package itself imports nothing, so importing one module never drags in the others.
"""
