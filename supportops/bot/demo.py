"""Issue categories of the Tidewell Outdoor demo shop, with example customer messages.

Written for this project: Tidewell is a fictional outdoor-gear shop (tents, packs, rain
jackets, boots, sleeping bags, stoves). The categories route handoffs and name the topic
in the handoff packet, so the demo makes sense on its first run. The shipped high-stakes
categories (billing disputes, account security, legal threats, data deletion) are
installed with every workspace and are not repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from supportops.accounts.models import Workspace

from .categories import (
    categories_install_defaults,
    category_create,
    category_examples_add,
)
from .models import CategoryExample, IssueCategory


@dataclass(frozen=True)
class DemoCategory:
    name: str
    description: str
    examples: tuple[str, ...]


DEMO_CATEGORIES = (
    DemoCategory(
        "Orders and delivery",
        "Where an order is, delivery times and costs, changing or cancelling an order.",
        (
            "Where is my order?",
            "My tent still hasn't arrived and it's been a week",
            "Has my order shipped yet?",
            "Can I track my parcel somewhere?",
            "The tracking link says the parcel is stuck in Oslo",
            "How long does delivery to Tromsø take?",
            "Do you deliver to Iceland?",
            "What does express shipping cost?",
            "Can I change the delivery address on my order?",
            "I need to cancel the order I placed this morning",
            "Can I add a stove to the order I just placed?",
            "The courier left a note but I was home all day",
            "My package arrived but the sleeping bag is missing from it",
            "Is it possible to pick up my order in the Bergen store instead?",
            "When will my backorder for the Ridgeback pack ship?",
            "The parcel was marked delivered but I never got it",
            "Can you deliver on a Saturday?",
            "I ordered two jackets and only one came",
            "Do I pay customs if I order from Switzerland?",
            "How do I get free shipping?",
            "My order is late",
            "It's been ten days and nothing has arrived",
            "When will my package get here?",
            "The delivery is taking forever, what's going on?",
            "I think my parcel is lost",
        ),
    ),
    DemoCategory(
        "Returns and refunds",
        "Returning or exchanging items, return labels, and when a refund arrives.",
        (
            "How do I return boots that are too small?",
            "Can I exchange my rain jacket for a bigger size?",
            "How long do I have to send something back?",
            "Where do I get a return label?",
            "I sent my return two weeks ago, where is my refund?",
            "Is return shipping free?",
            "Can I return a tent I already slept in once?",
            "The sleeping bag doesn't fit in my pack, can I send it back",
            "I got a gift from Tidewell, can I return it without the receipt?",
            "Do you refund to my card or as store credit?",
            "My refund is less than what I paid",
            "Can I return sale items?",
            "I want to swap the blue jacket for the green one",
            "Can I drop my return off at a store?",
            "The item I returned was a present for someone else, who gets the money?",
            "You received my return but haven't refunded me yet",
            "I lost the return form that came in the box",
            "How do I return just one item from a bigger order?",
            "I want my money back for the jacket",
            "The boots are too tight, can I return them?",
            "These trousers don't fit, how do I send them back",
            "Can I get a refund instead of an exchange?",
            "I changed my mind about the stove, can I return it",
            "The colour looks different from the photo so I want to return it",
        ),
    ),
    DemoCategory(
        "Billing and payments",
        "Payment methods, invoices and receipts, gift cards, discount codes and VAT.",
        (
            "What payment methods do you accept?",
            "Can I pay by invoice?",
            "Do you take Vipps?",
            "I need a receipt with our company's VAT number",
            "Where can I download my invoice?",
            "My discount code isn't working at checkout",
            "Can I use two gift cards on one order?",
            "How do I check the balance on my gift card?",
            "My card was declined but I have money on it",
            "Can I split the payment over a few months?",
            "Is the price shown including VAT?",
            "The student discount didn't apply",
            "When is my card charged, at order or at shipping?",
            "Can I change the payment method on an order I already placed?",
            "Do Tidewell Plus members get a discount on shipping?",
            "Can I pay in euros instead of kroner?",
            "I need the invoice addressed to my employer",
            "Does my gift card expire?",
        ),
    ),
    DemoCategory(
        "Product questions",
        "Sizes, materials, specifications and how to use or look after a product.",
        (
            "Is the Fjordline tent big enough for two people and their packs?",
            "What size boots should I get if I'm usually a 43?",
            "Is the Stormshell jacket fully waterproof or just water resistant?",
            "How warm is the down sleeping bag, can I use it in winter?",
            "How much does the Ridgeback 45 weigh?",
            "Does the Emberlite stove work with butane gas canisters?",
            "How do I wash a down sleeping bag?",
            "Can I reproof my rain jacket myself?",
            "Are the merino tops itchy?",
            "What's the difference between the 45 and 60 litre packs?",
            "Do the Trailrunner boots need breaking in?",
            "Is the tent freestanding?",
            "How many poles does the Fjordline have?",
            "Can the sleeping bag be zipped together with another one?",
            "Is the base layer suitable for running?",
            "Which jacket would you recommend for hiking in Scotland in autumn?",
            "Does the pack have a rain cover included?",
            "What is the hydrostatic head of the tent fly?",
            "Are your down products responsibly sourced?",
            "How should I store the tent over winter?",
        ),
    ),
    DemoCategory(
        "Stock and stores",
        "Whether a product or size is in stock, restocks, and the Tidewell stores.",
        (
            "When will the Stormshell jacket be back in stock in medium?",
            "Is the Ridgeback pack in stock in the Bergen store?",
            "Can you let me know when the green tent is available again?",
            "What are the opening hours of your Trondheim shop?",
            "Do you have a store in Stavanger?",
            "Can I reserve boots in a store to try them on?",
            "The website says sold out, do you have any left in a shop?",
            "Are you getting more of the 2-person tent before summer?",
            "Is the store open on public holidays?",
            "Will the size 38 boots come back?",
            "Can I order online and try it in the store?",
            "Do the stores have the same prices as the website?",
            "Is there parking at the Bergen store?",
            "Do you rent out tents in the stores?",
            "Which shop has the biggest range of sleeping bags?",
        ),
    ),
    DemoCategory(
        "Repairs and warranty",
        "Faulty or broken products, warranty claims and the repair service.",
        (
            "The zip on my jacket broke after a month",
            "A tent pole snapped on the first trip, is that covered?",
            "The sole is coming off my boots",
            "How long is the warranty on your tents?",
            "Can you repair a tear in my sleeping bag?",
            "The stove won't light anymore",
            "My rain jacket leaks at the shoulders",
            "The buckle on the hip belt cracked",
            "Do you sell spare parts for the Fjordline tent?",
            "Is there a lifetime warranty on the packs?",
            "How do I make a warranty claim?",
            "The seams on the tent fly are peeling",
            "Where do I send a product for repair?",
            "The down is leaking out of my sleeping bag",
            "What does a repair cost when the warranty has run out?",
            "The waterproof boots let water in after three hikes",
        ),
    ),
    DemoCategory(
        "Account and privacy",
        "Signing in, passwords, account details, newsletters and privacy settings.",
        (
            "I forgot my password",
            "How do I change the email address on my account?",
            "I can't log in to my account",
            "The password reset email never arrives",
            "How do I unsubscribe from the newsletter?",
            "Can I order without creating an account?",
            "How do I update my phone number?",
            "How do I join Tidewell Plus?",
            "Where can I see my order history?",
            "Can I merge two accounts I made by mistake?",
            "How do I change my saved delivery address?",
            "What do you do with my personal data?",
            "Can I get a copy of the data you hold about me?",
            "How do I turn off personalised ads?",
            "I get too many emails from you",
            "How do I cancel my Tidewell Plus membership?",
        ),
    ),
)


@dataclass
class DemoCategoriesReport:
    created: list[str]
    examples_added: int


@transaction.atomic
def demo_categories_seed(*, workspace: Workspace) -> DemoCategoriesReport:
    """Create the demo categories and add their examples; a second run changes nothing
    (an existing category keeps its description, and examples it has are skipped)."""
    categories_install_defaults(workspace=workspace)
    report = DemoCategoriesReport(created=[], examples_added=0)
    for demo in DEMO_CATEGORIES:
        category = IssueCategory.objects.filter(workspace=workspace, name__iexact=demo.name).first()
        if category is None:
            category = category_create(
                workspace=workspace, name=demo.name, description=demo.description, actor=None
            )
            report.created.append(category.name)
        added = category_examples_add(
            category=category,
            texts=demo.examples,
            actor=None,
            source=CategoryExample.Source.DEFAULT,
        )
        report.examples_added += len(added)
    return report
