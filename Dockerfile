# Stockpilot image: one image for web, workers and beat (the command differs).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.txt .
# torch is pinned to the CPU build: the default index would pull a multi-GB CUDA build.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt
COPY . .
RUN DEBUG=1 python manage.py collectstatic --noinput
RUN useradd --create-home stockpilot && mkdir -p /app/var && chown -R stockpilot /app/var
USER stockpilot
EXPOSE 8000
CMD ["gunicorn", "backoffice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
