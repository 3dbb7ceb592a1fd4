"""Files (issue #11): one upload service for every ``type: file`` field of every entity and for the
五有 evidence.

* ``kinds``    what a file really is (from its first bytes) and the name it is shown under
* ``rules``    limits from the YAML (a field's ``accept`` / ``max_size_mb`` / ``max_files``, a
               checklist's ``uploads``), reading an upload under them, quotas; 413 / 415 / 400
* ``storage``  where the bytes live, behind a small interface (a local or shared directory today)
* ``tables``   ``jf_file``: name, size, SHA-256, type, uploader of each stored file and its record
* ``service``  staging, binding to the record at its flush, writing, cleaning up, serving, audit
* ``present``  ``{name, size, url}`` in the JSON of records, links on the screens
* ``forms``    upload inputs on the generated add/edit forms (``FilesModelView``)
* ``api``      ``/api/v1/<entity>/<id>/files/<field>`` upload / download / delete, staged uploads
               (``FilesModelApi``)

The record's ``file`` column keeps an opaque storage key; ``jf_file`` says what it is.  Downloads go
through the record's row scope (app/access/rules.py) and are audited, refused ones included.
"""
