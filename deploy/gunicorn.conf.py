"""gunicorn settings for the forms app behind deploy/nginx.conf (DANGXIAO_TRUSTED_PROXIES=1)."""

bind = "127.0.0.1:8001"
workers = 2
worker_class = "gthread"
threads = 8
timeout = 30
graceful_timeout = 20
# Access logs keep URLs, and URLs hold tracking codes: keep them off, or rotate them short.
accesslog = None
errorlog = "-"
