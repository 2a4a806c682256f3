from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_customer_number_label"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="bulkbatch",
            options={"ordering": ["bulk_import", "number"], "verbose_name_plural": "bulk batches"},
        ),
    ]
