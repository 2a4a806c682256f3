from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_week_report_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="careorder",
            name="held_pushes",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
