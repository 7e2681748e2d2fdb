"""Print management and accounting.

Kept free of imports: the pure cores (printmgmt.ipp, printmgmt.ppde) live in this package and
must import nothing of Django or Celery.
"""
