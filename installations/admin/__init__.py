"""Django admin for platform staff: one module per room (installation.py, people.py, messages.py),
their forms (forms.py), the pages that write (views.py) and what they share (mixins.py).
Every model is registered here, so this file is the admin's table of contents."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from ..models import (
    Customer,
    Handyman,
    Installation,
    Message,
    Partner,
    PartnerStatusCount,
    PartnerUser,
    StatusChange,
    WebhookDelivery,
    WebhookEndpoint,
)
from ..ratelimit.models import RateCount
from . import evidence  # noqa: F401  (registers itself)
from .blocks import RateCountAdmin
from .installation import InstallationAdmin
from .messages import MessageAdmin, PartnerStatusCountAdmin, StatusChangeAdmin
from .people import (
    CustomerAdmin,
    PartnerAdmin,
    PartnerUserAdmin,
    PortalGroupAdmin,
    PortalUserAdmin,
)
from .scheduling import HandymanWithTimeOffAdmin
from .webhooks import WebhookDeliveryAdmin, WebhookEndpointAdmin

admin.site.unregister(get_user_model())  # django.contrib.auth's, registered before ours
admin.site.register(get_user_model(), PortalUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, PortalGroupAdmin)
admin.site.register(Partner, PartnerAdmin)
admin.site.register(PartnerUser, PartnerUserAdmin)
admin.site.register(Handyman, HandymanWithTimeOffAdmin)
admin.site.register(Customer, CustomerAdmin)
admin.site.register(Installation, InstallationAdmin)
admin.site.register(StatusChange, StatusChangeAdmin)
admin.site.register(Message, MessageAdmin)
admin.site.register(PartnerStatusCount, PartnerStatusCountAdmin)
from . import dashboard  # noqa: E402,F401  (the partner dashboard for staff)

admin.site.register(WebhookEndpoint, WebhookEndpointAdmin)
admin.site.register(WebhookDelivery, WebhookDeliveryAdmin)
admin.site.register(RateCount, RateCountAdmin)
