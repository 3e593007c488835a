
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_ops_roles'),
    ]

    operations = [
        migrations.CreateModel(
            name='IntegratorAccount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.SlugField(help_text='Fixed once made: it names the row in Redis keys.', max_length=32, unique=True)),
                ('name', models.CharField(max_length=200)),
                ('region', models.CharField(choices=[('us', 'North America (api.integrator.io)'), ('eu', 'Europe (api.eu.integrator.io)')], default='us', max_length=4)),
                ('api_url', models.URLField(blank=True, max_length=300, verbose_name='API URL override')),
                ('token_encrypted', models.TextField(blank=True, editable=False)),
                ('is_default', models.BooleanField(default=False, editable=False)),
                ('rate_limit_per_second', models.FloatField(blank=True, null=True)),
                ('rate_limit_burst', models.PositiveIntegerField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['-is_default', 'key'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('is_default', True)), fields=('is_default',), name='integrator_account_one_default')],
            },
        ),
    ]
