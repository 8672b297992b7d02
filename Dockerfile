# Production image: gunicorn serves the web app; the same image runs the worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic with DEBUG off: the manifest storage writes staticfiles.json (pages 500 without it)
RUN DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input \
 && useradd --system --home /app crm && mkdir -p /app/var && chown -R crm /app/var
USER crm
EXPOSE 8000
CMD ["gunicorn", "crm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
