from django.db import migrations

from directory import search_indexes


class Migration(migrations.Migration):
    dependencies = [("directory", "0004_customerlookup")]

    operations = search_indexes.vector_operations()
