"""The demo data `campaign-api seed` loads: varied customers and one campaign per interesting status."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from dispatch.lifecycle import Channel

from campaign_api.domain import Audience, CampaignStatus, NewCampaign, NewCustomer, Segment

# valid Kenyan mobile numbers (Safaricom/Airtel ranges), several with null fields and non-ASCII names;
# "Müller", "Émile" and "Søren" fit the GSM-7 table; "Wanjirũ", "Zoë" and "Nguyễn" need UCS-2 on SMS
CUSTOMERS: Final = (
    NewCustomer("+254712345601", "Wanjirũ", "Kamau", "Nairobi", "Running Shoes"),
    NewCustomer("+254712345602", "Zoë", "Otieno", "Mombasa", "Winter Jacket"),
    NewCustomer("+254712345603", "Jürgen", "Müller", "Nairobi", "Espresso Machine"),
    NewCustomer("+254712345604", "Nguyễn", "Thị Lan", "Kisumu", "Running Shoes"),
    NewCustomer("+254712345605", None, "Achieng", "Nakuru", "Yoga Mat"),
    NewCustomer("+254712345606", "Brian", "Kiprop", None, "Running Shoes"),
    NewCustomer("+254712345607", "Amina", "Hassan", "Mombasa", None),
    NewCustomer("+254712345608", "Kevin", None, None, None),
    NewCustomer("+254722345609", "Faith", "Njeri", "Eldoret", "Winter Jacket"),
    NewCustomer("+254733345610", "Émile", "Dubois", "Nairobi", "Espresso Machine"),
    NewCustomer("+254712345611", "Grace", "Wambui", "Thika", "Running Shoes"),
    NewCustomer("+254712345612", None, None, "Nairobi", None),
    NewCustomer("+254110345613", "Søren", "Njoroge", "Malindi", "Yoga Mat"),
    NewCustomer("+254712345614", "Chloé", "Mwangi", "Kisumu", "Winter Jacket"),
)

SCHEDULED_AHEAD: Final = timedelta(days=30)
TEMPLATE: Final = "Hi {first_name|there}, check out {preferred_product|our new range} in {location|your city}!"

# (campaign, status); the scheduled one gets its scheduled_at from the clock at seed time
CAMPAIGNS: Final = (
    (
        NewCampaign("Welcome Series", Channel.WHATSAPP, "Karibu {first_name|friend}! Reply STOP to opt out.", None),
        CampaignStatus.DRAFT,
    ),
    (
        NewCampaign(
            "Running Shoes Week",
            Channel.SMS,
            TEMPLATE,
            None,
            Audience(segment=Segment(preferred_product="Running Shoes")),
        ),
        CampaignStatus.SCHEDULED,
    ),
    (NewCampaign("Summer Sale 2025", Channel.SMS, TEMPLATE, None), CampaignStatus.SENT),
)

# the sent campaign's delivery history: these customers received it
SENT_TO_PHONES: Final = tuple(customer.phone for customer in CUSTOMERS[:6])
