"""The event bus: RabbitMQ exchanges and queues shared by the central and the branches."""
