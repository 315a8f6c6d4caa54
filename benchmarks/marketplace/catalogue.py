"""What the generated marketplace is made of: products, names, policies, words."""

from __future__ import annotations

#: name, image, price, variants
CATALOGUE = (
    ("Speckled mug", "products/mug.svg", "24.00", ("Sand", "Night blue", "Moss")),
    ("Serving bowl", "products/bowl.svg", "58.00", ("Small", "Large")),
    ("Oak chopping board", "products/board.svg", "45.00", ()),
    ("Woven linen scarf", "products/scarf.svg", "39.50", ("Ochre", "Indigo")),
    ("Blown glass vase", "products/vase.svg", "89.00", ("Clear", "Smoke")),
    ("Tumbler set", "products/tumbler.svg", "36.00", ()),
)
STUDIO_WORDS = ("Atelier", "Studio", "Maison", "Workshop", "Fabrique", "Galerie")
CRAFT_WORDS = ("Argile", "Lin", "Chêne", "Verre", "Cuivre", "Laine", "Grès", "Osier", "Papier", "Rotin")
CRAFTS = ("Stoneware", "Woodwork", "Blown glass", "Weaving", "Metalwork", "Paper goods")
FIRST_NAMES = ("Camille", "Alex", "Jules", "Léa", "Noah", "Inès", "Hugo", "Chloé", "Louis", "Emma", "Sacha",
               "Zoé", "Nina", "Tom", "Lina", "Adam", "Maëlys", "Eliott", "Rose", "Sam")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Simon",
              "Laurent", "Lefèvre", "Michel", "Garcia", "Morgan", "Fournier", "Girard", "Bonnet")
POLICIES = (
    # window, refunds delivery, return shipping paid by, restocking fee %, text
    (14, True, "artist", "0", "Returns within 14 days of delivery. Delivery costs are refunded and I send "
                              "a prepaid return label."),
    (30, False, "buyer", "10", "Returns within 30 days. Return shipping is at your expense; a 10% restocking "
                               "fee applies to returns that are not faulty."),
    (7, False, "buyer", "0", "Fragile pieces: tell me within 7 days of delivery. Delivery costs are not "
                             "refunded."),
    (None, True, "artist", "0", "Returns at any time, delivery costs refunded."),
)
#: What each side writes in a thread.
SENTENCES = {
    "buyer": (
        "Hello, thank you for your quick answer.",
        "Could you tell me where to send the parcel back?",
        "I posted it this morning, the tracking number should work tomorrow.",
        "Thank you, I received the instructions.",
        "The colour is much darker than on the photos.",
        "The size does not fit the shelf I bought it for.",
        "I would rather have a refund, if that is possible.",
        "Is the other colour still available?",
        "Merci beaucoup, bonne journée !",
    ),
    "artist": (
        "Thank you for your message, I am sorry it does not suit you.",
        "No problem, I will look at it as soon as it arrives at the workshop.",
        "Please wrap it well: the piece is fragile.",
        "I can send you a new one this week if you prefer an exchange.",
        "The parcel arrived today, everything is in order.",
        "Sorry for the delay, I was away at a craft fair.",
        "I have just initiated the refund, you should see it in a few days.",
    ),
    "support": (
        "Hello, this is the Mirette support team: we are looking into this with the artist.",
        "The team remains at your disposal if anything else comes up.",
    ),
}
COMMENTS = (
    "It is lovely but not the right size for my table.",
    "I changed my mind, sorry.",
    "It arrived after the birthday it was meant for.",
    "The colour does not match the rest of the set.",
    "",
)
#: Reasons that need no photo (photos would need image files on disk).
REASONS = ("wrong_size", "changed_mind", "late_delivery", "other")
