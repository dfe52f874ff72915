"""Permanent visibility (issue #18): the centre's performance criteria against their targets,
and a programme's results published without login, as a page, open data, a poster and a badge.
"""
