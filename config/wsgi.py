import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Django and the apps, loaded, stay for the process's life: frozen out of the garbage collector, a
# full collection no longer walks them in the middle of a request (measured in bench/checkout: a
# collection of a big heap stalled every worker for about 0.6 s at the same point of its work).
gc.collect()
gc.freeze()
