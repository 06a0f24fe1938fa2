# ruff: noqa: E501  (hand-written messages stay one per line, however long)
"""Write the shipped training examples of the text models.

    .venv/bin/python scripts/make_text_examples.py

writes supportops/text/data/sentiment_examples.csv (text,sentiment) and
supportops/text/data/high_stakes_intents.csv (text,label). Every sentence and template below
was written for SupportOps by the project: what customers of shops (an outdoor-gear shop like
the demo's), subscriptions, software, banks, telecoms, travel booking, utilities, delivery
firms and local services write to support. Nothing here is taken, reworded or aimed at any
evaluation set. Hand-written messages are kept as written; templates fill slots (products,
amounts, order numbers, names, durations) and some get a casual style (lower case, a typo,
an emoji, more punctuation) that does not change their label. The output is deterministic.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "supportops" / "text" / "data"
SEED = 20240612

HEADER = (
    "# Written for SupportOps by the project (scripts/make_text_examples.py makes this file;",
    "# edit the script, not the file). Messages customers of shops, subscriptions, software,",
    "# banks, telecoms, travel booking, utilities, delivery and local services send to support.",
    "# Nothing is derived from any evaluation set. Licence: the project's own.",
)

# --- Slots ------------------------------------------------------------------------------

GEAR = [
    "tent", "sleeping bag", "rain jacket", "pair of hiking boots", "pair of trail shoes",
    "head torch",
    "backpack", "down jacket", "camping stove", "water filter", "set of trekking poles",
    "sleeping mat", "fleece", "dry bag", "hammock", "climbing harness", "kayak paddle",
    "cool box", "pair of gaiters", "base layer", "bivvy bag", "camp chair", "pair of walking socks",
    "softshell", "daypack",
]  # fmt: skip
GOODS = [
    "blender", "desk chair", "phone case", "kettle", "duvet cover", "coffee grinder",
    "pair of jeans", "floor lamp", "air fryer", "bike helmet", "yoga mat", "vacuum cleaner",
    "rug", "headphones", "watch strap", "toaster", "sofa", "bookshelf", "winter coat",
    "office desk", "baby monitor", "pair of trainers", "mattress", "printer", "dinner set",
]  # fmt: skip
SUBSCRIPTIONS = [
    "meal kit", "coffee subscription", "wine box", "magazine subscription", "streaming plan",
    "gym membership", "vitamin subscription", "pet food delivery", "razor subscription",
    "flower subscription", "audiobook membership", "snack box", "cloud storage plan",
    "language course", "fruit and veg box",
]  # fmt: skip
FEATURES = [
    "the invoice export", "calendar sync", "the mobile app", "single sign-on", "the CSV import",
    "the dashboard", "the browser extension", "the API", "the Slack integration",
    "the reporting page", "the desktop app", "file uploads", "search", "notifications",
    "the time tracker", "the shared inbox", "offline mode", "the payroll run",
    "the webhook", "password reset emails",
]  # fmt: skip
BANKING = [
    "card payment", "bank transfer", "direct debit", "standing order", "savings pot",
    "international transfer", "contactless payment", "cash withdrawal", "salary payment",
    "top-up", "refund to my card", "mortgage payment",
]  # fmt: skip
TELECOM = [
    "broadband", "wifi", "mobile data", "router", "SIM card", "landline", "fibre connection",
    "phone signal", "roaming", "eSIM", "TV box", "internet",
]  # fmt: skip
TRAVEL = [
    "hotel booking", "rental car", "ferry booking", "train booking", "holiday cottage",
    "campsite pitch", "apartment booking", "coach booking", "cabin booking", "city break",
    "guided tour", "bike hire",
]  # fmt: skip
UTILITIES = [
    "electricity bill", "gas bill", "water bill", "energy bill", "quarterly bill",
    "heating bill", "final bill", "dual fuel bill",
]  # fmt: skip
SERVICES = [
    "cleaner", "plumber", "electrician", "dog groomer", "bike mechanic", "boiler engineer",
    "window fitter", "removal team", "gardener", "locksmith", "decorator", "carpet fitter",
]  # fmt: skip
APPOINTMENTS = [
    "haircut", "car service", "laptop repair", "physio session", "eye test", "vet appointment",
    "piano lesson", "massage", "dentist check-up", "MOT", "nail appointment", "tattoo session",
]  # fmt: skip
NAMES = [
    "Priya", "Tomasz", "Aoife", "Kwame", "Lena", "Mateo", "Yuki", "Sam", "Fatima", "Jonas",
    "Chloe", "Ravi", "Ingrid", "Diego", "Amara", "Niall", "Mei", "Oskar", "Leila", "Ben",
    "Sofia", "Callum", "Hana", "Emeka", "Marta", "Dev", "Rosa", "Tariq", "Elin", "Jack",
]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WAITS = [
    "two days", "three days", "a week", "ten days", "two weeks", "three weeks", "a month",
    "six weeks", "five days", "over a week", "nearly a month", "48 hours",
]  # fmt: skip
TIMES_CONTACTED = ["twice", "three times", "four times", "five times", "again and again"]
CURRENCIES = ["£", "$", "€"]


def amount(rng: random.Random) -> str:
    value = rng.choice([4.99, 9.99, 12, 15, 19.5, 24.99, 30, 39, 45, 59.99, 72, 89, 120, 149])
    value = value if rng.random() < 0.5 else round(value * rng.uniform(0.6, 3.2), 2)
    text = f"{value:.2f}" if value % 1 else f"{value:.0f}"
    return f"{rng.choice(CURRENCIES)}{text}"


def order_ref(rng: random.Random) -> str:
    number = rng.randint(10000, 999999)
    letter = rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ")
    return rng.choice([f"#{number}", f"TW-{number}", f"{letter}{number % 100000}", f"{number}"])


SLOTS: dict[str, Callable[[random.Random], str]] = {
    "gear": lambda r: r.choice(GEAR),
    "goods": lambda r: r.choice(GOODS),
    "item": lambda r: r.choice(GEAR + GOODS),
    "sub": lambda r: r.choice(SUBSCRIPTIONS),
    "feature": lambda r: r.choice(FEATURES),
    "bank": lambda r: r.choice(BANKING),
    "telecom": lambda r: r.choice(TELECOM),
    "travel": lambda r: r.choice(TRAVEL),
    "utility": lambda r: r.choice(UTILITIES),
    "service": lambda r: r.choice(SERVICES),
    "appointment": lambda r: r.choice(APPOINTMENTS),
    "name": lambda r: r.choice(NAMES),
    "day": lambda r: r.choice(DAYS),
    "wait": lambda r: r.choice(WAITS),
    "times": lambda r: r.choice(TIMES_CONTACTED),
    "ordinal": lambda r: r.choice(["second", "third", "fourth", "fifth"]),
    "amount": amount,
    "amount2": amount,
    "order": order_ref,
    "n": lambda r: str(r.randint(2, 9)),
    "minutes": lambda r: str(r.choice([20, 25, 35, 40, 45, 50, 55, 70, 90])),
}
_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: random.Random) -> str:
    """Fill the known slots; other braces stay for str.format."""
    return _SLOT.sub(
        lambda m: SLOTS[m.group(1)](rng) if m.group(1) in SLOTS else m.group(0), template
    )


# --- Casual styles that keep the label ------------------------------------------------------

MISSPELLINGS = {
    "received": "recieved", "definitely": "definately", "until": "untill",
    "address": "adress", "tomorrow": "tommorow", "because": "becuase",
    "cancellation": "cancelation", "separate": "seperate", "disappointed": "dissapointed",
    "please": "pls", "you": "u", "your": "ur", "thanks": "thx", "really": "rly",
    "weird": "wierd", "immediately": "immediatly", "extremely": "extremly",
    "apparently": "apparantly", "which": "wich", "know": "kno", "though": "tho",
    "people": "ppl", "before": "b4", "message": "msg", "tonight": "tonite",
    "basically": "basicly", "literally": "literaly", "appreciate": "appriciate",
    "account": "acount", "delivery": "delievery", "order": "oder",
}  # fmt: skip
EMOJI = {
    "negative": ["😡", "😤", "🙄", "😩", "😞", "😠", "🤬", "👎", "😒", "😫", "💀", "🤦"],
    "neutral": ["🙂", "🙏", "🤔", "📦", "👋"],
    "positive": ["😊", "🙌", "👍", "🎉", "❤️", "🙏", "😍", "🥳", "👏", "😄", "💯", "✨"],
}


def casual(text: str, label: str, rng: random.Random, *, emoji: bool = True) -> str:
    """One or two informal habits: lower case, a dropped full stop, a misspelling, an emoji,
    doubled punctuation, a shouted word (complaints only)."""
    roll = rng.random()
    if roll < 0.35:
        text = text.lower()
        if text.endswith(".") and not text.endswith(".."):
            text = text[:-1]
    if rng.random() < 0.3:
        words = text.split(" ")
        candidates = [
            i for i, w in enumerate(words) if re.sub(r"\W", "", w.lower()) in MISSPELLINGS
        ]
        if candidates:
            i = rng.choice(candidates)
            bare = re.sub(r"\W", "", words[i].lower())
            words[i] = words[i].lower().replace(bare, MISSPELLINGS[bare])
        else:
            long_words = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
            if long_words:
                i = rng.choice(long_words)
                w = words[i]
                j = rng.randrange(1, len(w) - 2)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        text = " ".join(words)
    if emoji and rng.random() < (0.1 if label == "neutral" else 0.25):
        text = text.rstrip(".") + " " + rng.choice(EMOJI[label])
    if label != "neutral" and rng.random() < 0.15 and text.endswith(("!", "?")):
        text += text[-1] * rng.randint(1, 3)
    if label == "negative" and rng.random() < 0.06:
        text = text.upper()
    return text


# --- Sentiment: hand-written messages --------------------------------------------------------

NEGATIVE_WRITTEN = """
Ordered a 2-person tent, got a kids' play tent. How does that even happen
third email about the same refund. THIRD. does anyone read these?
your app logs me out every time I switch to another app, it's driving me nuts
Cancelled my gym membership in March and you've taken money again in May. Unbelievable.
The courier marked my parcel as delivered and it is not here. Not on the doorstep, not with the neighbours, nowhere.
been on hold 47 minutes to report a broadband fault. 47 minutes!!
Wifi drops every evening between 7 and 10, exactly when we need it. Paying full price for half a service.
Great, another "we're experiencing high demand" message. Super helpful 🙄
Love how the meter reading I sent twice apparently never arrived. Estimated bill of £312, thanks a lot
Your booking page took my money and didn't send a confirmation. Now the hotel says they have no reservation.
I'm so done with this bank. Card declined at the supermarket with plenty of money in the account, again.
The boots leaked on the first walk. Waterproof my foot.
honestly the worst customer service i've ever dealt with
Why does every update make the app slower? It takes 20 seconds to open now.
The plumber never showed up. Took a day off work for nothing.
Meal kit arrived with half the ingredients missing and the chicken was warm. Not safe, not acceptable.
You've put up the price of my plan without telling me. Sneaky.
Rental car had a flat tyre and a warning light on at pickup. Lost half a day of our holiday sorting it.
still no refund. it's been 6 weeks. 6!
The chatbot keeps sending me to the same useless help page
I asked for the parcel to go to the locker and the driver left it on a wall in the rain 😡
Sleeping bag zip split on night one. Cold, miserable night on the hill. Cheers for that.
Every time I call I get a different answer. Nobody seems to know what they're doing.
The export has been broken since your last release and our month-end close is tomorrow. This is seriously hurting us.
why is it so hard to cancel a subscription?? signing up was one click, cancelling is a maze
Wrong colour, wrong size, and the box was crushed. Nought out of three.
Down jacket is shedding feathers everywhere after two wears. For £240 I expected a lot better.
Your engineer said the fault was fixed. It wasn't. Still no dial tone.
Booked a sea-view room, got a room looking at the bins. Lovely.
i've been charged a late fee for a payment that left my account on time. explain that.
Told twice that someone would call me back. Nobody has.
This is ridiculous, my order has been "processing" for nine days
The new dashboard is a mess. Can't find anything and half my saved reports are gone.
absolutely gutted, the head torch died halfway down in the dark. batteries were brand new
You lost my parcel and now you want ME to prove it didn't arrive?
ngl this is the last time i order from you
Transfer has been pending for 4 days and my rent is due tomorrow. I'm panicking here.
The coffee subscription keeps sending decaf even though I changed it twice. Drinking decaf against my will 😤
Your website crashed at checkout three times and then charged me for an order I can't even see
The repair shop had my laptop for three weeks and it came back with the same fault and a scratched lid.
I'm sick of chasing you for one simple invoice
The smart meter hasn't sent a reading in months and now you say I owe £480. No chance.
worst. update. ever.
the ferry was cancelled and your site still let us pay for it?
Rude agent on the phone today. Talked over me and then hung up.
the replacement is broken too. seriously??
Two weeks without internet and all I get is "we're aware of the issue"
Paid for next-day delivery, it turned up four days later.
Why do I have to explain everything from scratch every time I'm transferred?
cleaner turned up 2 hrs late and left after 40 min. i paid for 3 hours.
Disappointed. The tent poles don't fit the sleeves, looks like parts from a different model.
I've been a customer for 8 years and this is how you treat me
The app says my card is frozen and won't say why. I can't buy food.
seriously thinking about switching provider after this week
Your "easy returns" are anything but easy. Print a label, drop-off point closed, no collection option.
Ugh. Sync wiped all my notes from the last week.
Support ticket closed as resolved. It is NOT resolved.
the hotel had no record of our booking at 11pm with two tired kids. thanks for nothing
Stove won't light. Tried three gas canisters. Waste of money.
Received someone else's order. Mine is apparently somewhere across the country.
You promised a callback between 2 and 4. It's 6pm.
Gave up waiting and bought it elsewhere.
I can't believe you want a £15 fee to cancel a service that never worked
Water bill doubled and nobody can tell me why
the groomer nicked my dog's ear. I'm furious
Nothing in this app works offline, which is the whole reason I paid for it
Payment failed, then went through twice. This is really stressing me out
Router arrived without a power cable. Yes, really.
Account locked AGAIN for "suspicious activity". The suspicious activity is me logging in.
this is a joke
absolute shambles
not impressed tbh
so annoyed rn
nope. still broken.
useless. just useless.
can you actually help or just send me links
well that was a waste of my afternoon
fed up of waiting
really not happy with how this has been handled
dissapointed with the quality, it fell apart in a week
i am extremly unhappy with my order
recieved a damaged item AGAIN
what on earth is this charge
why is my bill so high this month?? 😤
pathetic service from start to finish
Thanks for nothing.
Oh brilliant, the "fix" broke something else.
Wow. Ten days for a reply. Impressive.
Cheers for leaving my parcel in the recycling bin 👍
So glad I pay extra for "priority" support that answers in a week
Fantastic, billed for the plan I downgraded from. Just fantastic.
Love waking up to an empty account because of your "glitch"
Nice to know eight years of loyalty counts for nothing
The walking poles snapped on the first descent. Could have been a nasty fall.
My washing machine has been "out for delivery" three days running
I've uninstalled the app. Too many bugs, not worth the hassle.
You cut off my internet while I was working from home and nobody warned me
Another month, another wrong bill
The hire bikes had no lights and one had no brakes. Dangerous.
I want to make it clear how unhappy I am with the delivery driver's behaviour
The holiday cottage was filthy when we arrived. Hair in the shower, crumbs everywhere.
Not what I ordered, not what was in the photos, not happy
Why would you cancel my order without telling me? I found out from my bank.
You sent my new card to my old address even though I updated it
Can't log in, can't reset my password, can't reach anyone. Brilliant system.
The new version deleted my saved filters. All of them.
Half the page is in a different language since the update, sort it out
i'm honestly so frustrated with this whole thing
It's been a nightmare from day one
The gas engineer left without fixing the boiler and we have a newborn at home
No hot water for five days now and you keep rescheduling
I've had better service from a vending machine
That's the fourth driver who couldn't find my house. It's on the map!
the sizing chart is completely wrong, everything I ordered is two sizes too small
why does your verification code take 10 minutes to arrive? it expires in 5
This is the third time my weekly box has come with broken eggs
Your competitor would have sorted this in a day
The car seat cover arrived ripped and smelling of smoke
What's the point of live chat if nobody's live?
Invoices are showing the wrong VAT and our accountant is not happy. Neither am I.
Don't bother promising next-day when you can't do it
My appointment got cancelled by text an hour before. I'd already left work.
Every page takes forever to load, the product is basically unusable today
You've charged me for two SIMs and I've only ever had one
The tracking page has said "label created" for a week
Honestly, I regret upgrading
The instructions are useless and two screws are missing
I've been going round in circles with your team since January
The new app design is awful, I can't even find my balance
The mattress arrived with a stain on it. For the price I paid that's shocking.
I'm not paying for a service I didn't get
This has completely ruined our weekend away
The hammock straps frayed after one night. Really poor quality.
Why am I getting someone else's emails?
whoever designed this checkout should be ashamed
The room smelled of damp and the heating didn't work. Not the relaxing break we paid for.
It's taken longer to get a refund than it took to make the product
Delivery window 8am to 8pm and then nobody came. Wasted a whole day.
The replacement SIM still doesn't work. No signal at all. I rely on this for work.
I'm tired of being told it's "escalated" when nothing ever happens
So the fix is to uninstall and lose all my data? No thanks.
the water filter leaks from the seal, tried it three times
Hours on the phone. HOURS.
Your email said 24h response. It's been 5 days.
That was the least helpful conversation I've had all year
I don't want a voucher, I want the thing I paid for
The delivery guy threw my parcel over the gate. There was a glass vase in it.
you lot really don't care do you
can't believe how bad this has got, you used to be good
Meh. Jacket looks nothing like the pictures and the zip sticks.
Absolutely livid right now
The booking was for two rooms. You booked one. We're four adults.
Pretty poor that I had to find out about the price rise from a friend
The app ate my payment and now my bill is overdue. Brilliant.
I'm giving up, this is exhausting
""".strip().splitlines()

NEUTRAL_WRITTEN = """
Do you ship to Norway?
What's the difference between the 55 and 65 litre packs?
Can I change the delivery address on my order?
My parcel says delayed in transit. Any idea when it'll arrive?
Is the down jacket machine washable?
how do i add a second user to our account
When does my contract end?
I'd like to move my haircut to Thursday if possible
Is there a student discount?
My order was meant to arrive yesterday. Could you check where it is?
Hi, I moved house last week, how do I update my billing address?
Can I pause my meal kit for two weeks while I'm away?
Does the tent come with a footprint or is that sold separately?
can everything be exported to csv
Which single sign-on providers do you support?
How long do international transfers usually take?
I've sent a meter reading through the app, can you confirm you got it?
the app shows error code E42 when I upload a file, what does it mean?
Can I return something bought in a shop through the website?
The courier left a card saying they'll try again tomorrow. Can I collect from the depot instead?
What time does the Leeds shop close on Saturday?
How do I get copies of last year's statements?
Could you resend the invoice for March? We need it for our accounts.
My train tickets didn't come through by email, where can I find them?
Is breakfast included in my booking?
Will the sale price apply if I ordered yesterday?
Just checking whether my refund has been processed, it's been five days.
I think my package went to number 4 instead of 14. What should I do?
can I switch plans in the middle of the month
Quick question about sizing: do the trail shoes run small?
Our team is growing, how does pricing work above 50 seats?
What's the cut-off for next-day delivery?
Does the boiler service include a gas safety certificate?
Can the plumber come before 10?
Where do I find my customer number?
My card expired, how do I add the new one for my subscription?
The engineer is booked for Friday, do I need to be home all day?
Can I bring my dog to the campsite?
My sister is going instead of me, can the booking be put in her name?
How does the warranty work on the stove?
My internet was down this morning, is there an outage in my area?
Got an email saying my payment failed, which card did you try?
hey, how do I turn off the renewal reminder emails
Will you restock the green rain jacket in medium?
Can I use two discount codes on one order?
ok, I'll wait for the email then
I've attached a photo of the label
the order number is 55128
Yes, that's the right address.
No, it was the blue one.
sure, Tuesday works
The zip on my jacket came off. Is that covered by the warranty?
Tracking says my delivery is a day late, will it still come this week?
The app won't open on my tablet since the update. I'm on version 4.2, is that a known issue?
Can I change my direct debit date to the 15th?
How do I download my data usage for last month?
What's included in the premium plan?
Do you price match?
Is there parking at the hotel?
Can you tell me the dimensions of the sofa when it's boxed?
I'd like to book a boiler service for next month
Do the hiking boots need breaking in?
what's the weight of the 2 person tent
How do I change the email address on my account?
Is the water filter suitable for travelling abroad?
Is the Saturday delivery slot still available?
Hello, is anyone there?
Can I speak to someone about upgrading my broadband?
Where's my nearest collection point?
What's the time limit for returning an item?
do you do gift wrapping
Can I get the invoice in the company's name instead of mine?
Which plan includes the API?
What happens to my files if I downgrade?
Is the ferry running tomorrow? There's a weather warning.
I need to report a streetlight outside my house, is that you or the council?
How do I read my smart meter?
Can I get a paper bill instead of email?
Is my parcel insured?
the tracking number doesn't work on the courier's site yet, is that normal?
I placed two orders by accident, can you cancel one of them?
Hi, my order shows as delivered but I was out, where would the driver have left it?
If I cancel today, when does my access end?
Can I move my eye test to next week?
What's the minimum term on the fibre contract?
Do you have any availability for a cleaner on Fridays?
Can I add a driver to my car hire?
Could you let me know when the dog groomer has a free slot?
I'll be on holiday when the box is due, can I skip one week?
How do I connect the printer to the new router?
Does the API have rate limits?
Does the payroll run on bank holidays?
Is there a phone number I can call instead?
I got two emails about the same order, which one should I follow?
A cash machine kept my bank card. Can you send a replacement?
What's your returns address?
Can I collect the bike from the shop on Sunday?
Is there a charge for changing the booking date?
Which size would you recommend for a 10 year old?
Is my meter a smart meter? How would I check?
Could you confirm my appointment for Wednesday at 3?
Did you get my photos of the damage?
What does "awaiting dispatch" mean?
What's the status of ticket 40812?
The link in the email takes me to a login page, is that right?
Are the trekking poles adjustable?
Do I need to sign for the delivery?
When will the new range be in stock?
How do I switch to annual billing?
my delivery is running late, will it still arrive today?
The parcel was delayed by the courier, can I still get it before the weekend?
Hi, my refund hasn't shown up yet. What's the usual timescale?
My payment is still pending, is that normal for a transfer abroad?
The meal kit has a missing sauce sachet, can you send one or credit it?
one of the mugs arrived chipped, can I get a replacement?
Is the outage in my postcode fixed yet?
""".strip().splitlines()

POSITIVE_WRITTEN = """
Thank you so much, the replacement tent arrived this morning!
Just wanted to say the rain jacket kept me dry through three days of storms. Brilliant kit.
Priya on chat was fantastic, sorted my refund in five minutes
wow that was quick, thanks!
Cheers, all working again 👍
Best customer service I've had in years, honestly
Love the new dark mode 😍
The engineer was friendly and fixed the wifi in twenty minutes. Really impressed.
thank u!! you're a lifesaver
That's perfect, exactly what I needed to know
Great news, thanks for letting me know
Our team loves the new reporting page, it saves us hours every week
Happy to confirm the refund has landed. Thanks for your help.
Took a while but you got there in the end, appreciate it
Had a wobble with the delivery but the boots are fantastic, so all forgiven 😄
the cleaner did an amazing job, the house has never looked better
Switching to you was the best decision, bills are lower and the app is easy
Thanks for being so patient with me on the phone today
Sorted! Thank you
10/10 would order again
Genuinely impressed by how easy the return was
You've got a customer for life
The cottage was lovely and the booking went without a hitch, thanks
smooth as anything, thanks team 🙌
Just a note to say the ferry change you arranged worked perfectly
ahh thank you!! panic over
Props to whoever designed the new checkout, so much faster
Brilliant, that's fixed it 🎉
Thanks for the quick reply, really appreciate it
all good now, thanks for sorting it
The sleeping bag is so warm, slept like a baby at minus five
Really pleased with the new sofa, delivery team were great too
This app has made budgeting so much easier, thank you
Wonderful service from start to finish
Your driver went above and beyond, carried it up three flights of stairs. Please thank him!
thanks a million
Amazing, the dog looks so fluffy 🐶❤️
Loving the new update, the calendar sync finally works properly
Nice one, thanks
Perfect, thanks so much for your help today
The meal kits have been delicious, my kids actually eat vegetables now
so happy with my boots, comfy straight out of the box
The plumber was punctual, tidy and explained everything. Will book again.
That's really kind of you, thank you
Superb service, the hire car was spotless
I was dreading calling but Jonas made it painless. Thank you!
Honestly didn't expect a reply on a Sunday, thank you 😊
Just renewed for another year, keep doing what you're doing
Fab, that's done the trick
much appreciated!!
Delighted with the new router, speeds are miles better
you lot are brilliant, cheers
Bike came back running like new, great job
Thanks, you've been really helpful
Cheers for the refund, very fair of you
Quick and painless, thank you
Gorgeous jacket, fits perfectly
Really grateful for the extension on my bill this month
Great shout on the smaller size, fits like a glove
I appreciate you looking into it so thoroughly
the new API docs are excellent, got our integration running in an afternoon
Fair play, that was sorted fast
Kudos to your support team, they know their stuff
Lovely stay, the room upgrade was a nice surprise
Exactly what I needed, thanks
Wow, didn't know the app could do that, brilliant
Thank you for replacing it without any fuss
Wasn't sure at first but the water filter is excellent, tasted fine from a muddy stream
Happy customer here 🙂
Spot on, thanks again
Very helpful chat, thank you Mei
Such a relief, thanks for helping
The whole family loves the new streaming plan
Good stuff, thanks for the update
Very impressed with how you handled this
The headtorch is brilliant, bright and lasts for ages
Everything arrived early and beautifully packed 😍
You made that so easy, thanks
Thanks, that's great news
I'm really happy with how this turned out
Outstanding help from Diego today
Wasn't expecting such a fast refund, thank you
what a great bunch you are 😊
Best purchase I've made all year
Thank you! Have a lovely weekend
Great customer service as always
Thanks a lot, problem solved
Cheers, much better now
Totally worth the money
""".strip().splitlines()

# --- Sentiment: templates --------------------------------------------------------------------

# Facts about something that went wrong. They read as a complaint with a complaining frame
# and as a calm report (neutral) with an asking frame, so the model learns tone, not topic.
PROBLEMS = [
    "my {item} arrived damaged",
    "my {gear} arrived with a tear in it",
    "the {gear} I ordered is missing a part",
    "you sent the wrong size {item}",
    "my {item} hasn't arrived yet",
    "order {order} still hasn't been dispatched",
    "the {goods} stopped working after {n} days",
    "my {sub} box didn't turn up this week",
    "I've been charged for my {sub} after cancelling it",
    "my {sub} renewed without a reminder",
    "{feature} isn't working",
    "{feature} keeps timing out",
    "{feature} has been down since this morning",
    "my {bank} never went through",
    "my {bank} is stuck on pending",
    "my {telecom} keeps dropping out",
    "my {telecom} has been down since {day}",
    "the {telecom} is really slow in the evenings",
    "my {travel} was cancelled",
    "my {travel} confirmation never arrived",
    "my {utility} looks far too high",
    "my {utility} is based on an estimate again",
    "the {service} didn't turn up on {day}",
    "my {appointment} was cancelled at the last minute",
    "my {appointment} was moved without anyone asking me",
    "the tracking for order {order} hasn't updated in {wait}",
    "I've been waiting {wait} for a refund",
    "I've been waiting {wait} for a reply",
    "the replacement {item} has the same fault",
    "the parcel was left outside in the rain",
    "the delivery driver left my {goods} with a neighbour I don't know",
    "my {gear} leaks at the seams",
    "my discount code didn't apply at checkout",
    "the app logged me out and won't let me back in",
    "I was sent someone else's {item}",
]
COMPLAINT_OPENERS = [
    "", "", "", "Hi, ", "Hello, ", "Right, ", "Honestly, ", "Seriously, ", "So ",
    "Once again ", "Yet again ", "Unbelievable, ",
]  # fmt: skip
COMPLAINT_ENDINGS = [
    "This is the {ordinal} time I've had to contact you.",
    "I've emailed {times} and heard nothing.",
    "Honestly I'm fed up.",
    "Really disappointed.",
    "Not good enough.",
    "Nobody has replied in {wait}.",
    "I needed it for this weekend and now it's ruined.",
    "Absolutely useless.",
    "This is a joke.",
    "What a waste of money.",
    "I'm so frustrated.",
    "Getting really annoyed now.",
    "Not happy at all.",
    "Sort it out.",
    "How hard can it be?",
    "I'm done with this.",
    "Shocking service.",
    "Worst experience I've had with any company.",
    "I'm losing patience.",
    "Ridiculous.",
    "I won't be ordering again.",
    "Thanks for ruining my week.",
    "Nobody seems to care.",
    "What am I paying you for?",
    "This keeps happening.",
    "Still no explanation.",
    "Completely unacceptable.",
    "I've had enough.",
    "Great job, really. 🙄",
    "Every single time.",
]
COMPLAINT_DEMANDS = [
    "", "", "", "I want a refund.", "Fix it.", "Can someone actually do something?",
    "I want my money back.", "Just send a replacement.", "I expect compensation.",
    "Sort it out today please.", "Someone needs to call me.",
]  # fmt: skip
NEGATIVE_TEMPLATES = [
    "{opener}{problem}. {ending} {demand}",
    "{opener}{problem} and {problem2}. {ending}",
    "{problem}?! {ending}",
    "{ending} {problem_cap}.",
    "{problem_cap}. AGAIN. {ending}",
    "{opener}{problem} for the {times_ord} time. {ending}",
    "{problem_cap}, {wait} now. {ending}",
    "Why is it that {problem}? {ending}",
    "I can't believe {problem}. {ending}",
    "{problem_cap}... {ending}",
]
SARCASM = [
    "Oh great, {problem}. Just what I needed.",
    "Love that {problem}. Brilliant service as always.",
    "Wonderful, {problem}. Thanks so much.",
    "Amazing how {problem} every single time.",
    "{problem_cap}. Fantastic. Really top work.",
    "Well done, {problem}. Best company ever 👏",
    "Perfect timing, {problem} on the one week I needed it.",
    "Cheers for that, {problem}.",
    "So pleased I paid extra, {problem}.",
    "Can't fault it, apart from the fact that {problem}.",
]
MIXED_NEGATIVE = [
    "I love the {gear} but {problem}. Really annoyed.",
    "The {item} is nice enough, but {problem} and nobody's helping.",
    "Usually you're great, but {problem} and I'm fed up.",
    "Your staff are friendly but {problem}. Not good enough.",
    "{name} was polite but {problem} and that's what matters.",
    "Good product, shame about the service: {problem}.",
]

CALM_OPENERS = ["", "", "", "Hi, ", "Hello, ", "Hi there, ", "Morning, ", "Hey, ", "Quick one: "]
CALM_ASKS = [
    "Could you look into it?",
    "What should I do?",
    "Can you check what's happening?",
    "Do I have to do anything on my side?",
    "What's the fix?",
    "What are my options?",
    "Could you let me know the next steps?",
    "When can I expect an update?",
    "Can you advise?",
    "Who should I speak to about this?",
    "Is this a known issue?",
    "Do you need anything from me?",
    "The reference is {order}.",
]
NEUTRAL_PROBLEM_TEMPLATES = [
    "{opener}{problem}. {ask}",
    "{opener}{problem}. {ask} Thanks",
    "{opener}it seems {problem}. {ask}",
    "{opener}I think {problem}. {ask}",
    "{opener}{problem}, {ask_low}",
    "{opener}just letting you know {problem}. {ask}",
]
QUESTIONS = [
    "Can you deliver a {gear} to the Channel Islands?",
    "Is the {gear} available in a bigger size?",
    "How do I care for my {gear}?",
    "Is there a warranty on the {goods}?",
    "How long does delivery usually take for a {goods}?",
    "Can I change the colour of the {item} I ordered?",
    "When will the {gear} be back in stock?",
    "Can I pause my {sub} for a month?",
    "How do I change the delivery day for my {sub}?",
    "What's the price of the {sub} after the trial?",
    "Can I switch my {sub} to a different plan?",
    "How do I set up {feature}?",
    "Is {feature} included in the basic plan?",
    "Does {feature} work with two-factor turned on?",
    "Where do I find the settings for {feature}?",
    "How many days until a {bank} clears?",
    "Is there a limit on a {bank}?",
    "Can I cancel a {bank} once it's been sent?",
    "What's the fee for an international transfer?",
    "Is there a cheaper {telecom} deal for existing customers?",
    "How do I restart my {telecom}?",
    "Can I take my {telecom} with me when I move house?",
    "Can I change the dates on my {travel}?",
    "Is the {travel} refundable?",
    "What time is check-in for my {travel}?",
    "How do I send a meter reading before my next {utility}?",
    "When is my next {utility} due?",
    "Can you explain how my {utility} is worked out?",
    "Is there a {service} available on {day}?",
    "How much does the {service} charge per hour?",
    "Can I book a {appointment} for {day}?",
    "Can I move my {appointment} to {day}?",
    "How early should I arrive for my {appointment}?",
    "Where is order {order}?",
    "Has order {order} been dispatched yet?",
    "Can I add something to order {order} before it ships?",
    "Can I still cancel order {order}?",
    "Which courier are you using for order {order}?",
    "Can I pay for the {goods} in instalments?",
    "Does the {goods} come assembled?",
    "What's the return window for a {item}?",
    "Can I collect my {item} in store on {day}?",
    "Is the {gear} suitable for winter camping?",
    "Will {feature} be available on Android?",
    "Can I get a receipt for my {sub}?",
]
QUESTION_ENDINGS = ["", "", "", "", " Thanks", " Thanks in advance.", " Cheers", " Thank you."]
STATEMENTS = [
    "My order number is {order}.",
    "The booking is under {name}.",
    "I'll be in on {day} if that helps.",
    "I sent the photos to {name} yesterday.",
    "The {item} is still in its box.",
    "I've updated my card details in the app.",
    "I'm on the {sub}, billed monthly.",
    "I spoke to {name} on {day} about this.",
    "It was delivered on {day}.",
    "I'm using {feature} on a Mac.",
    "I paid {amount} for it.",
    "The {service} is booked for {day} morning.",
    "I tried restarting it already.",
    "My account email is the same as this one.",
    "OK, I'll try that and let you know.",
    "Got it, I'll keep an eye on the tracking.",
    "Understood, I'll wait until {day}.",
    "That's the address I want it sent to.",
]

PRAISES = [
    "the {gear} is brilliant",
    "the replacement {item} arrived the next day",
    "{name} sorted my refund in minutes",
    "{name} was so helpful on the phone",
    "{feature} is a game changer for our team",
    "{feature} works perfectly now",
    "my {sub} is the highlight of my week",
    "the {service} did a fantastic job",
    "my {appointment} went really well",
    "the {travel} was perfect",
    "the {telecom} has been rock solid since the upgrade",
    "my {bank} went through instantly",
    "the {goods} is even better than the photos",
    "the delivery came a day early",
    "the return was really easy",
    "the {gear} survived a week of rain without a leak",
    "your team fixed {feature} so quickly",
    "{name} went above and beyond",
    "the {utility} is finally correct",
    "checkout was so smooth",
]
PRAISE_TEMPLATES = [
    "{thanks}, {praise}!",
    "{praise_cap}, {thanks_low}",
    "Just wanted to say {praise}. {thanks}",
    "{praise_cap}. {extra}",
    "{thanks}, {praise}. {extra}",
    "Honestly, {praise}. {extra}",
    "{praise_cap}!! {thanks}",
    "Wow, {praise}. {thanks}",
    "Really happy, {praise}.",
    "{praise_cap} and {praise2}. {thanks}",
]
THANKS = [
    "Thank you", "Thanks so much", "Thanks a lot", "Many thanks", "Cheers", "Thanks",
    "Thank you so much", "Massive thanks", "Big thanks", "Thanks again", "Ta",
]  # fmt: skip
EXTRAS = [
    "You've made my day.",
    "Will definitely recommend you.",
    "Really appreciate it.",
    "Great service.",
    "Keep it up!",
    "Couldn't be happier.",
    "Five stars from me.",
    "You're all stars.",
    "What a relief.",
    "Very impressed.",
    "Thanks for making it so easy.",
    "Best support team around.",
]
RESOLVED = [
    "{problem_past}, but {name} sorted it straight away. Thank you!",
    "{problem_past}, but you fixed it the same day, so thank you.",
    "{problem_past} at first, but the replacement is perfect. Thanks!",
    "Bit of a hiccup, {problem_past}, but honestly great service in the end. Thanks!",
    "{problem_past}, but your team handled it brilliantly.",
    "I was annoyed when {problem_past}, but {name} was lovely and it's all sorted now.",
]
PROBLEMS_PAST = [
    "my {item} arrived damaged",
    "the parcel went missing",
    "{feature} stopped working",
    "my {bank} got stuck",
    "my {telecom} went down",
    "my {travel} got mixed up",
    "the {service} was late",
    "the wrong {item} turned up",
    "my {sub} box was late",
    "I was charged twice",
]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _after(opener: str, text: str) -> str:
    """`text` after a greeting: mid-sentence after a comma or colon ("Hi, can I...")."""
    if opener.endswith((", ", ": ")) and not re.match(r"I\b|I'", text):
        text = text[:1].lower() + text[1:]
    return opener + text


ORDINALS = ["second", "third", "fourth", "fifth"]


def negative_message(rng: random.Random) -> tuple[str, str]:
    problem = fill(rng.choice(PROBLEMS), rng)
    kind = rng.random()
    if kind < 0.2:
        template, family = rng.choice(SARCASM), "sarcasm"
    elif kind < 0.3:
        template, family = rng.choice(MIXED_NEGATIVE), "mixed"
    else:
        template, family = rng.choice(NEGATIVE_TEMPLATES), "complaint"
    text = template.format(
        opener=rng.choice(COMPLAINT_OPENERS),
        problem=problem,
        problem_cap=_cap(problem),
        problem2=fill(rng.choice(PROBLEMS), rng),
        ending=fill(rng.choice(COMPLAINT_ENDINGS), rng),
        demand=rng.choice(COMPLAINT_DEMANDS),
        times_ord=rng.choice(ORDINALS),
        wait=fill("{wait}", rng),
        gear=fill("{gear}", rng),
        item=fill("{item}", rng),
        name=fill("{name}", rng),
    )
    return _tidy(text), family


def neutral_message(rng: random.Random) -> tuple[str, str]:
    kind = rng.random()
    if kind < 0.35:
        problem = fill(rng.choice(PROBLEMS), rng)
        ask = fill(rng.choice(CALM_ASKS), rng)
        text = rng.choice(NEUTRAL_PROBLEM_TEMPLATES).format(
            opener=rng.choice(CALM_OPENERS),
            problem=problem,
            ask=ask,
            ask_low=ask[:1].lower() + ask[1:],
        )
        family = "calm problem"
    elif kind < 0.85:
        text = _after(rng.choice(CALM_OPENERS), fill(rng.choice(QUESTIONS), rng))
        text += rng.choice(QUESTION_ENDINGS)
        family = "question"
    else:
        text, family = fill(rng.choice(STATEMENTS), rng), "statement"
    return _tidy(text), family


def positive_message(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.2:
        past = fill(rng.choice(PROBLEMS_PAST), rng)
        text = fill(rng.choice(RESOLVED), rng).format(problem_past=past)
        return _tidy(_cap(text)), "resolved"
    praise = fill(rng.choice(PRAISES), rng)
    thanks = rng.choice(THANKS)
    text = rng.choice(PRAISE_TEMPLATES).format(
        thanks=thanks,
        thanks_low=thanks.lower(),
        praise=praise,
        praise_cap=_cap(praise),
        praise2=fill(rng.choice(PRAISES), rng),
        extra=rng.choice(EXTRAS),
    )
    return _tidy(text), "praise"


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([.,!?])", r"\1", text)
    text = re.sub(r"(?<!\.)\.\.(?!\.)", ".", text)
    text = text.replace("?.", "?").replace("!.", "!").replace(",.", ".")
    return _cap(text)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


class Rows:
    """Examples in the order made, each text once (compared without case and punctuation)."""

    def __init__(self, rows: Iterable[tuple[str, str]] = ()) -> None:
        self.rows: list[tuple[str, str]] = []
        self._seen: set[str] = set()
        for text, label in rows:
            self.add(text, label)

    def add(self, text: str, label: str) -> bool:
        key = _key(text)
        if not key or key in self._seen:
            return False
        self._seen.add(key)
        self.rows.append((text, label))
        return True

    def count(self, label: str) -> int:
        return sum(1 for _, existing in self.rows if existing == label)


SENTIMENT_TARGETS = {"negative": 1250, "neutral": 1150, "positive": 1000}


def sentiment_rows(rng: random.Random) -> list[tuple[str, str]]:
    written = {
        "negative": NEGATIVE_WRITTEN,
        "neutral": NEUTRAL_WRITTEN,
        "positive": POSITIVE_WRITTEN,
    }
    makers = {
        "negative": negative_message,
        "neutral": neutral_message,
        "positive": positive_message,
    }
    rows = Rows(
        (line.strip(), label) for label, lines in written.items() for line in lines if line.strip()
    )
    for label, target in SENTIMENT_TARGETS.items():
        have = rows.count(label)
        while have < target:
            text, _ = makers[label](rng)
            if rng.random() < 0.45:
                text = casual(text, label, rng)
            have += rows.add(text, label)
    made = rows.rows
    rng.shuffle(made)
    return made


# --- High-stakes categories ------------------------------------------------------------------

BILLING_DISPUTE_WRITTEN = """
You've charged me twice for the same order
A charge from you showed up on my bank statement and I have no idea what it is
I cancelled in January and you're still taking payments. I want them back.
I was quoted £30 a month and you've billed me £45
Why am I paying for a premium plan I never chose?
Please reverse the second payment, I only ordered once
I'm disputing this invoice, the work was never done
If this isn't refunded I'll raise a chargeback with my card provider
The free trial turned into a £79 annual charge without any warning
You took a payment after I closed my account
My direct debit went up without notice and I don't agree to the new amount
charged me for delivery when the site said free delivery
I sent the item back a month ago and you charged me again instead of refunding
This bill includes calls I never made
You've billed us for 12 seats but we only have 5 users
I've been overcharged on my energy bill, the reading you used is wrong
Two payments of £19.99 went out today for one subscription
I was promised the cancellation fee would be waived and you've taken it anyway
The price at checkout was lower than what was actually taken from my card
Please remove the late payment fee, I paid on time and can prove it
The hotel took payment again at checkout for a room that was already paid for
I've asked my bank to dispute your charge
I never agreed to the upgrade you've charged me for
Why am I being charged roaming fees when I was at home the whole month?
You charged a cancellation fee even though I cancelled within the cooling-off period
please refund the duplicate charge
my card got charged 3 times for one order!!
the amount on this invoice is wrong and I'm not paying it
My deposit was never returned and now there's a cleaning fee I don't accept
I want to dispute the £62 you took from my account
The annual renewal went through although I'd switched off auto-renew
Your engineer charged a call-out fee for a visit he cut short after five minutes
The meter reading on my bill is way off and I'm not paying an estimate that high
I'm being billed for a phone contract I ended last year
This charge is not what we agreed on the phone
you've taken money for a box I skipped
I was charged the full price even though the discount showed in my basket
Why did you bill me for two months at once?
The garage charged me for parts they didn't fit
you billed me after the trial even though I cancelled on day 3
I'd like the extra charge on my account reversed, it was your mistake
Taking money from my account for an order you cancelled is not ok
I've been paying for a broadband speed I've never once had and I want that money back
My account shows a charge for an add-on I never selected
The price went up mid-contract, which you said wouldn't happen. I'm disputing it.
The refund you processed was £20 short
""".strip().splitlines()

FRAUD_WRITTEN = """
Someone has logged into my account from another country
I got an email saying my password was changed, but I didn't change it
My account's been hacked, the email address on it isn't mine any more
There are orders in my account I never placed
Somebody used my card on your website, I didn't buy any of this
I keep getting login codes I didn't ask for
I think someone is trying to get into my account
I got a text pretending to be you asking for my bank details
I clicked a link in a fake email and typed in my password, what do I do now?
My number was moved to a new SIM without my permission and now I have no service
Money has left my account and I didn't make those transfers
My wallet was stolen last night and I can see payments going out on my card
Someone rang claiming to be your fraud team and asked for my PIN
My gift card balance was spent by someone else
There's a device signed in to my account that I don't recognise
my delivery address was changed and I didn't do it
unauthorised purchases on my account, please lock it now
I believe my account is compromised
Somebody has opened an account in my name
Two-factor was switched off on my account and I didn't do it
Our admin account was taken over and someone invited strangers into our workspace
my loyalty points are gone and there are redemptions I never made
Is this really you? A message says my account will be closed unless I confirm my card number
A stranger is using my login, I can see their searches in my history
Someone changed the bank details on my account to theirs
I've been scammed by someone pretending to be one of your agents
My account was used to send spam to all my contacts
There's a payee on my online banking I never added
Someone reset my password and locked me out of my own account
I got a parcel delivery email for an order I never made, and my saved card was used
My elderly mum was tricked into giving her login to a caller who said he was from you
Somebody is using my details to rent cars through your site
A refund was sent to a card that isn't mine
the app says I logged in from a city I've never been to
Strange direct debits are being set up in my name
Please block my card, my wallet was stolen
Someone got hold of my account and changed the phone number on it
""".strip().splitlines()

LEGAL_WRITTEN = """
If this isn't sorted by Friday I'm taking you to the small claims court
I'll be reporting you to Trading Standards
My solicitor is writing to you this week
This is a clear breach of the Consumer Rights Act
I'm filing a complaint with the ombudsman
I'm going to sue
Consider this notice that I'm starting legal proceedings
I want to make a formal complaint
I've gone to the Financial Ombudsman about how you've handled this
I'll be reporting this data breach to the ICO
I'm reporting you to Ofcom
My attorney has told me not to pay and to forward everything to her
You'll be hearing from my legal team
This is false advertising and I'm taking it further legally
I'm going to file a claim in court for the damage your fitter did
I've started a money claim through the online court
We will be seeking damages for the downtime your outage caused us
Our legal department will contact you about the breach of our service agreement
I'm a lawyer and what you're doing is unlawful
See you in court
Please treat this message as a letter before action
I'm escalating this to the energy ombudsman
You have discriminated against me and I'm taking legal advice
Your product injured my son and I'm speaking to a personal injury solicitor
The Better Business Bureau will be hearing about this
I'm filing a complaint with the consumer protection authority
I will be taking this to the regulator
I've got a solicitor's appointment on Monday to discuss suing you
My barrister says you're in breach of contract
Expect a claim from us for the cost of the ruined holiday
I'm contacting the data protection authority about how you used my details
This is harassment and I've asked a lawyer to deal with it
I'll be starting legal action to get my deposit back
If you don't respond within 14 days I'll issue court proceedings
I've logged a formal complaint with the financial regulator
Our lawyers are reviewing your terms and will be in contact
I'm going to take you to a tribunal over this
""".strip().splitlines()

DELETION_WRITTEN = """
Please delete my account and all the data you hold on me
I want to exercise my right to erasure under GDPR
Remove my personal information from your systems
Close my account and wipe my details
How do I permanently delete my account and everything in it?
I'd like you to erase my order history and my address
Please forget me, I don't want you keeping any of my data
Delete all recordings of my calls with you
Under GDPR article 17, erase my personal data
Please confirm in writing that my data has been deleted
Stop storing my card details and delete them from your records
Delete my child's account and everything linked to it
I'm leaving, I want my profile and photos removed completely
I want to be removed from your database entirely
Please purge my information from your customer records
we're leaving the platform: delete our workspace and all user data
right to be forgotten request
erase my email, phone number and address from your records
How long do you keep my data after I close my account? I want it gone now
CCPA request: delete my personal information
Please delete the account and data of my late father
I no longer want an account, delete it along with my purchase history
Wipe all my data from the app and your servers
I asked for my data to be deleted last month, has it been done?
Delete every trace of me from your system please
I want my account erased, not just deactivated
Please remove all the health information I entered in the app
Get rid of all my personal details, I'm done with you
I want the location history you collected about me deleted
Please delete the old account registered to this email and all its data
""".strip().splitlines()

LOOK_ALIKES_WRITTEN = """
When will I be billed for my subscription?
Can I pay by bank transfer?
How do I download my invoice?
Can I change my billing date to the 1st?
How do I update the card on my account?
How much is the premium plan?
Do you charge for returns?
Is VAT included in the price?
How much is delivery to Ireland?
I returned my boots last week, when will the refund come through?
Can I get a receipt for my last payment?
Can I split the payment over three months?
What payment methods do you take?
My payment was declined, can I try another card?
Can you explain the new prices from April?
Can I settle this month's bill early?
Is the charge for express delivery per item or per order?
My billing address is different from the delivery address, is that ok?
How do I add our VAT number to invoices?
Can I charge the head torch over USB?
My phone won't charge with the cable you sent
How long does the power bank take to charge?
Can I be billed yearly instead of monthly?
Who handles enterprise billing questions?
Do you bill in euros?
How do refunds work if I cancel partway through the month?
If I upgrade now, how is the charge worked out?
Do you add a surcharge for credit card payments?
How do I change my password?
I forgot my password
How do I turn on two-factor authentication?
The login code isn't arriving on my phone
How do I add a passkey to my account?
How do I sign out of my account on other devices?
Can I change the email address on my account?
How do you keep card details safe?
My account is locked after too many wrong passwords, how long do I wait?
How do I freeze my card in the app?
Is there a security deposit for the rental car?
Does the cabin door have a key code?
Are there security cameras at the parcel lockers?
How do I set a PIN on the TV box?
Is it legal to wild camp in Scotland?
Is this stove allowed on a canal boat?
What's your company's registered legal name for our supplier form?
Where can I read your terms and conditions?
Are these bike lights road legal?
Do I need to be 18 to receive the wine box?
Our legal team needs a copy of your data processing agreement
Is it legal to fly a drone at the campsite?
Where's your privacy policy?
I work at a law firm and we'd like to order twelve desk chairs
My solicitor recommended your accounting software, does it handle multiple currencies?
Does the home insurance include legal cover?
Which shoes are best for a tennis court?
Do you deliver to offices on Saturdays?
I'll leave a one-star review if this isn't fixed
I'm going to tell everyone I know not to shop here
I'm cancelling and going to one of your competitors
How do I delete an item from my basket?
Can I delete a saved address?
How do I delete a project in the dashboard?
How do I remove a team member from our workspace?
Can I delete the review I wrote?
How do I unsubscribe from marketing emails?
I deleted a file by accident, can I get it back?
How do I clear the app's cache?
How do I remove an old phone from my account?
How do I cancel my subscription?
How do I delete a message I sent?
Please take the gift note off my order
How do I delete a payee in online banking?
Can you take the extra item off my order before it ships?
What data does the app collect?
Can I export my data before the trial ends?
How do I wipe my old router before I send it back?
How do I reset the smart meter display?
Can I delete my search history in the app?
How do I remove my card from Apple Pay?
Can you remove my middle name from the delivery label?
I'd like to downgrade to the free plan
Please cancel my order, I found it cheaper elsewhere
My refund arrived, thanks. Can I reorder in a different size?
Why is there a pending charge of £1 on my card when I added it?
Can I get a copy of my contract?
What's the notice period to leave?
Is there a penalty for leaving the contract early?
Can I transfer my subscription to my partner?
I got an email about a new login, it was me on my new phone, all fine
I changed my password yesterday and now the app won't sync, how do I fix it?
Where do I report a scam website pretending to be a shop? Just curious if you have a form
Your hold music is awful and I've been waiting 20 minutes
I'm really angry that my parcel is late again
This is the worst service I've ever had
The jacket ripped the first time I wore it and I want a replacement
My complaint is that the lid doesn't fit the flask properly
Your app is rubbish, it crashes every time I open it
The plumber was two hours late and left a mess
""".strip().splitlines()

BILLING_TEMPLATES = [
    "You've charged me {amount} twice for order {order}",
    "I was charged {amount} for my {sub} after I'd cancelled it",
    "A payment of {amount} from you showed up on my bank statement and I have no idea what it's for",
    "I was told {amount} a month and you've billed me {amount2}",
    "Why was I charged {amount} when the price at checkout was {amount2}?",
    "Please reverse the {amount} charge, I never agreed to it",
    "My latest {utility} is {amount} more than it should be and I'm disputing it",
    "My {sub} renewed for {amount} even though I'd turned auto-renew off",
    "I returned the {item} and instead of a refund you took another {amount}",
    "The {service} charged me {amount} for a visit that never happened",
    "I'll do a chargeback on the {amount} payment if you don't refund it",
    "You've billed our company for {n} extra seats we never added",
    "You took a {amount} cancellation fee I was told I wouldn't have to pay",
    "Double charge on order {order}, please refund one of them",
    "The {travel} took {amount} from my card again at checkout although I'd prepaid",
    "I want the {amount} you charged for {feature} back, we never switched it on",
    "Why have I been charged {amount} for a {goods} I never received?",
    "{amount} went out of my account for order {order} and the order was cancelled",
    "I'm contesting the {amount} on my bill, it's not what I signed up for",
    "You charged my card {n} times for the same {sub}",
]
FRAUD_TEMPLATES = [
    "Someone placed order {order} on my account, that wasn't me",
    "There are {n} purchases on my card from your site that I didn't make",
    "I got an email saying my password was changed on {day}. That wasn't me, please lock my account",
    "Someone logged into my account on {day} from a device I don't own",
    "{amount} was taken from my account by someone else",
    "I think my {sub} account was hacked, the email and phone number have been changed",
    "A man calling himself {name} from your security team asked for my card PIN, is that real?",
    "A {bank} went to an account I don't know, I didn't send it",
    "Someone used my saved card to buy a {goods} on your site",
    "I've been getting login codes since {day} that I didn't request",
    "My {feature} admin login was used by someone else and they deleted our data",
    "An order for a {goods} appeared on my account and the address isn't mine",
    "Someone's got into my account, I didn't order the {item}",
    "I got a text from 'your bank' about a {bank} of {amount} and I think it's a scam, I clicked the link",
    "My mobile account was taken over and my number moved to a SIM in someone else's phone",
]
LEGAL_TEMPLATES = [
    "If this isn't sorted by {day}, I'm taking you to court",
    "I'm reporting you to {regulator}",
    "I've spoken to my {lawyer} about the {item} and they say you're liable",
    "My {lawyer} is preparing a claim over order {order}",
    "I'm going to sue you for the cost of the {item}",
    "This is a breach of contract and I'll be taking legal action over the {travel}",
    "I'm making a formal complaint about how {name} handled this",
    "Unless I get {amount} back by {day} I'm starting court proceedings",
    "I've been advised by my {lawyer} to take this further",
    "The {service} damaged my home and I'm taking legal advice",
    "{regulator} will hear about this",
    "My {lawyer} will be sending you a formal letter about the {utility}",
    "I'm taking you to small claims over the {goods}",
    "I want to raise a formal complaint about the {appointment}",
]
REGULATORS = [
    "Trading Standards", "the ombudsman", "the Financial Ombudsman", "Ofcom",
    "the energy ombudsman", "the ICO", "the data protection authority",
    "the consumer protection agency", "the Better Business Bureau", "the regulator",
    "the Advertising Standards Authority", "the attorney general's office",
]  # fmt: skip
LAWYERS = ["lawyer", "solicitor", "attorney", "legal team", "legal adviser", "barrister"]
DELETION_TEMPLATES = [
    "Please delete my {sub} account and erase my {things}",
    "Erase everything you hold on me, including my {things}",
    "I'm closing my account, please make sure my {things} are deleted",
    "Under {law}, I'm asking you to delete my personal data",
    "Remove my {things} from your records",
    "I want my account deleted, and all my {things} with it",
    "This is a {law} erasure request for my {things}",
    "Please wipe my {things} from your systems and confirm when it's done",
    "Delete my account and data, I don't use the {feature} any more",
    "I want you to delete my {things} and stop processing my data",
]
THINGS = [
    "name and address", "order history", "phone number", "payment details", "photos",
    "call recordings", "email address", "date of birth", "personal data", "location history",
    "saved cards", "messages", "profile details", "contact details",
]  # fmt: skip
LAWS = ["GDPR", "UK GDPR", "the GDPR", "CCPA", "data protection law", "Article 17 of the GDPR"]

SLOTS.update(
    {
        "regulator": lambda r: r.choice(REGULATORS),
        "lawyer": lambda r: r.choice(LAWYERS),
        "things": lambda r: r.choice(THINGS),
        "law": lambda r: r.choice(LAWS),
    }
)

HIGH_STAKES = {
    "billing_dispute": (BILLING_DISPUTE_WRITTEN, BILLING_TEMPLATES),
    "fraud_account_security": (FRAUD_WRITTEN, FRAUD_TEMPLATES),
    "legal_threat": (LEGAL_WRITTEN, LEGAL_TEMPLATES),
    "data_deletion": (DELETION_WRITTEN, DELETION_TEMPLATES),
}
HIGH_STAKES_PER_CATEGORY = 150
OUT_OF_SCOPE_TARGET = 750
HIGH_STAKES_OPENERS = [
    "", "", "", "", "Hi, ", "Hello, ", "Urgent: ", "Please help, ", "Hi there. ", "Right, ",
]  # fmt: skip
# Ordinary support messages borrowed from the sentiment examples must not touch money,
# security, the law or personal data: those are written by hand above, on either side.
_SENSITIVE = re.compile(
    r"charg|refund|bill|fee|money|paid|pay|debit|price|£|\$|€|overdrawn|invoice|cost|"
    r"lawyer|solicitor|court|legal|sue|complain|ombudsman|hack|fraud|scam|stolen|secur|"
    r"password|log ?in|locked|account|card|delete|data|erase|remove|wipe|privacy|cancel",
    re.IGNORECASE,
)


def high_stakes_rows(rng: random.Random, sentiment: list[tuple[str, str]]) -> list[tuple[str, str]]:
    rows = Rows()
    for label, (written, templates) in HIGH_STAKES.items():
        for line in written:
            if line.strip():
                rows.add(line.strip(), label)
        tries = 0
        while (
            rows.count(label) < HIGH_STAKES_PER_CATEGORY and tries < 20 * HIGH_STAKES_PER_CATEGORY
        ):
            tries += 1
            text = _tidy(_after(rng.choice(HIGH_STAKES_OPENERS), fill(rng.choice(templates), rng)))
            if rng.random() < 0.4:
                text = casual(text, "negative", rng, emoji=False)
            rows.add(text, label)
    for line in LOOK_ALIKES_WRITTEN:
        if line.strip():
            rows.add(line.strip(), "out_of_scope")
    borrowed = [text for text, _ in sentiment if not _SENSITIVE.search(text)]
    rng.shuffle(borrowed)
    for text in borrowed:
        if rows.count("out_of_scope") >= OUT_OF_SCOPE_TARGET:
            break
        rows.add(text, "out_of_scope")
    made = rows.rows
    rng.shuffle(made)
    return made


def write(path: Path, header: tuple[str, str], rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        for line in HEADER:
            handle.write(line + "\n")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the text models' training examples.")
    parser.add_argument("--out", type=Path, default=DATA, help=f"folder (default {DATA})")
    out = parser.parse_args().out
    rng = random.Random(SEED)
    sentiment = sentiment_rows(rng)
    write(out / "sentiment_examples.csv", ("text", "sentiment"), sentiment)
    high_stakes = high_stakes_rows(rng, sentiment)
    write(out / "high_stakes_intents.csv", ("text", "label"), high_stakes)
    for name, rows in (("sentiment", sentiment), ("high stakes", high_stakes)):
        counts: dict[str, int] = {}
        for _, label in rows:
            counts[label] = counts.get(label, 0) + 1
        print(name, len(rows), dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
