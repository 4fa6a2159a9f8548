import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")

app = Celery("coworking")
# Every CELERY_* setting lives in coworking/settings.py, beat schedule included.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
