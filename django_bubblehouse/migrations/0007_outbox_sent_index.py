from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_bubblehouse", "0006_drain_slots"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="outboxentry",
            name="bubblehouse_outbox_state",
        ),
        migrations.AddIndex(
            model_name="outboxentry",
            index=models.Index(fields=["state", "sent_at"], name="bubblehouse_outbox_sent"),
        ),
    ]
