from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("django_bubblehouse", "0002_hooks")]

    operations = [
        migrations.CreateModel(
            name="ReconcileMark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("serializer", models.CharField(max_length=255, unique=True)),
                ("reconciled_until", models.DateTimeField()),
            ],
        ),
    ]
