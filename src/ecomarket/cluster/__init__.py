"""The local cluster: centrals behind nginx, branches, Redis and RabbitMQ under supervisord."""
