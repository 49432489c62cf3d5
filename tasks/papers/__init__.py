"""The papers rendered: a `models.papers.Paper` as a Word file (word.py, python-docx: case
systems such as Elements, WebSak and ePhorte take Word) or as an HTML page (html.py, a Jinja
template in templates/papers/), and the forum case paper from a plan or a running revision
(forum_case.py)."""
