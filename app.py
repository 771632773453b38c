"""The app for `flask --app app`, gunicorn (`app:app`) and the RQ worker."""
from webapp import create_app

app = create_app()
