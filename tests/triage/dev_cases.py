"""A development set of hard phrasings, written by hand for the urgent-recall work (issue 5).

Everything is synthetic (invented first names only). ``URGENT`` are messages a clinician must
see now, phrased the ways patients and caregivers actually write: lay words, understatement,
typos, Spanish, a caregiver writing, the red flag buried in a routine request, a P.S. line.
``NOT_URGENT`` are routine messages that use the same words (denied, past, hypothetical,
mild, chronic, about someone else's condition, a drug name, a test name).

These were written before the urgent layers were tuned and are used as a dev set (the rules
may be tuned on them); the never-tuned evaluation sets live in ``tests/data``.
"""

from __future__ import annotations

URGENT: list[str] = [
    # cardiac, lay and understated
    "Probably nothing but there's this heaviness in my chest since breakfast and my left arm feels funny",
    "my chest feels like its being squeezed and im sweaty, is that bad",
    "Sorry to bother you, I have a weird ache in my chest that goes up into my jaw, started an hour ago",
    "husband has had an ache in the middle of his chest for 40 min, he is pale and sweaty and says its just heartburn",
    "feels like someone is standing on my chest right now",
    "Hi can you refill my atorvastatin. Also my chest has been really tight this morning and I feel clammy",
    "chets pain and my arm is numb",
    "my heart is racing like crazy and I feel like I'm going to pass out",
    "Heart pounding 170 and I'm dizzy and can't stand up without almost fainting",
    # breathing
    "can't get a full breath since this morning, it's getting worse",
    "I'm so winded I can't even finish talking on the phone",
    "my daughter is breathing really weird and fast and her ribs are pulling in",
    "asthma flare, used the puffer 6 times in the last two hours and it's not doing much",
    "brething is really hard right now",
    "I can barely breath when I lie down and my legs are swollen, worse today",
    "Mom has COPD, today she is gasping and her lips are a bluish color",
    "feel like I'm suffocating",
    "Me estoy asfixiando, no me entra aire",
    # allergic
    "ate some shrimp and now my throat feels scratchy and tight and my voice sounds weird",
    "my son got stung by a bee and his eye and cheek are puffing up and he's coughing",
    "started the new antibiotic, broke out in welts everywhere and my tongue feels big",
    "Lips tingling and swelling after the peanut sauce, can you call me",
    "le salieron ronchas por todo el cuerpo y se le esta hinchando la boca",
    # stroke, lay
    "my dad's words aren't coming out right and the right side of his face looks off",
    "grandma is suddenly really confused and dropping things with her left hand",
    "half my body feels numb all of a sudden",
    "I woke up and my arm won't work right, it's like its asleep but won't wake up, and my speech is weird",
    "mi esposo de repente no puede hablar bien y tiene la boca chueca",
    "my vision suddenly went blurry in one eye and my face feels numb",
    "Wife is slurrring her words and cant lift her arm",
    "I have a headache that came on like a thunderclap, worst one I have ever had",
    "Suddenly the worst headache ever, and I threw up",
    # self-harm, understated
    "I don't think I can keep going like this. I've thought about how I would do it",
    "honestly i just want everything to stop. i have the pills ready",
    "I've been thinking my family would be better if I wasn't around",
    "Refill my sertraline please. I also keep thinking about ending things",
    "ya no aguanto, estoy pensando en quitarme la vida",
    "my teenage son told me tonight he wants to kill himself",
    "i feel like giving up on life completely and i have a plan",
    "I cut myself again last night and it's deep",
    # overdose
    "my 2 year old may have swallowed some of grandma's blood pressure pills",
    "I accidently took my metoprolol twice this morning and now I'm really dizzy",
    "My husband drank a lot and took about 20 of his sleeping pills",
    "Mi hijo se tomo un monton de pastillas de mi mama",
    "took 15 tylenol for my tooth over the day, now my stomach hurts",
    # bleeding
    "my nose has been bleeding for over an hour, soaked through three towels",
    "cut my hand with a knife and it's spurting, pressure isn't stopping it",
    "pooping what looks like pure blood and I feel lightheaded",
    "I'm 10 weeks pregnant and I'm bleeding and cramping",
    "estoy embarazada de 3 meses y estoy sangrando mucho",
    "my stools have been black like tar for 2 days and I almost fainted in the shower",
    "on warfarin and I've been peeing blood and my gums won't stop bleeding",
    # fainting / neuro
    "my mom fainted in the kitchen and hit her head, she's awake but confused",
    "he keeps blacking out when he stands up",
    "my son is really hard to wake up and floppy",
    "Se desmayó mi papá hace rato y sigue muy débil",
    "my daughter had a fit, her whole body was shaking and she won't respond",
    # infant fever
    "my 6 week old feels really warm, 100.6 rectal",
    "newborn (10 days) has a temp of 38.2 and won't eat",
    "mi bebe de 5 semanas tiene calentura",
    "baby is 7 weeks old, running a fever since last night",
    # abdominal
    "my stomach pain is so bad I can't stand up straight and I'm throwing up",
    "really bad pain in my lower right belly since last night, hurts to walk",
    "stomach is rock hard and I'm in agony",
    "me duele muchísimo el estómago, no puedo ni caminar",
    # sugar
    "blood sugar is 38 and I'm shaky and confused",
    "my husband's sugar reads HI on his meter and he's throwing up and breathing fast",
    "glucosa en 450 y estoy vomitando y muy mareado",
    # labs with symptoms
    "the lab said my potassium is 6.9 and my heart is fluttering",
    "INR came back 8 and my gums are bleeding",
    # pregnancy
    "34 weeks and I haven't felt the baby move since yesterday",
    "I'm 32 weeks pregnant with a pounding headache and seeing flashing lights",
    "36 semanas, se me rompió la fuente",
    # buried in routine requests
    "Can I move my physical to next week? I'm having a hard time breathing today so I don't think I can make it",
    "Please send my inhaler to CVS, I'm out and I can't breathe well at all right now",
    "Quick question about my bill. PS my chest has been hurting all morning and my arm is tingling",
    "Need to cancel tomorrow, my dad collapsed this morning and isn't making sense",
    "Receta de losartán por favor. Por cierto, tengo dolor en el pecho desde anoche",
    # Spanish more
    "siento que me aprieta el corazón y me falta el aire",
    "mi mamá tiene la cara torcida y no puede mover el brazo",
    "me duele la cabeza como nunca, de repente, el peor de mi vida",
    "mi hija está respirando muy rápido y se le hunden las costillas",
]

NOT_URGENT: list[str] = [
    # denied red flags
    "No chest pain or shortness of breath, just need my lisinopril refilled",
    "no trouble breathing, just a runny nose and a cough for 3 days",
    "Denies any numbness or weakness, she just wants her blood pressure checked",
    "not suicidal at all, just want to talk about adjusting my sertraline dose",
    "no fever in the baby, she's 4 months and due for shots",
    "sin dolor de pecho, sólo quiero mi cita de control",
    "No tengo falta de aire, nada más tos",
    "I don't have any swelling of my lips or throat, just a small itchy rash on my arm",
    "no bleeding, no cramping, just want to schedule my first prenatal visit",
    "He hasn't passed out or anything, just tired",
    # history
    "I had a stroke in 2018 and need a copy of my records for the new neurologist",
    "My heart attack was 6 years ago; can you renew my metoprolol?",
    "Years ago I overdosed, I've been clean since, just need the form signed for work",
    "Had a seizure as a kid, never since. Do I need to tell the DMV?",
    "hace 3 años tuve un derrame, necesito mi receta de aspirina",
    "the anaphylaxis was in 2020 and I need a new EpiPen prescription, mine expired",
    "my mother had breast cancer and I want a referral for a mammogram",
    # hypothetical / education
    "What are the signs of a heart attack in women? Asking for my sister",
    "If my son gets a fever over 104 what should I do?",
    "Should I worry about bleeding when I start Eliquis?",
    "What does chest x-ray clear mean on my results?",
    "Can you explain what thunderclap headache means? I read it online",
    "Is it true that low blood sugar can cause confusion? My grandma is diabetic and stable",
    # mild, chronic, improving
    "My mild headache is better after ibuprofen, just letting you know",
    "Chronic back pain flared up a bit after gardening, can I get a PT referral?",
    "The rash is fading and the itching is almost gone",
    "my cough is getting better, I think I don't need the appointment anymore",
    "Slight stomach ache after eating spicy food, no vomiting",
    "a little short of breath going up the stairs, been like that for years with my weight. can we talk at my physical?",
    "Tengo un poco de dolor de cabeza, nada grave",
    "My knee has been really bad for months, I'd like an appointment with ortho",
    "Worst allergy season ever, can you refill my Zyrtec?",
    "my blood pressure was 128/82 this morning, is that ok?",
    "my sugar was 145 after dinner, should I change anything?",
    "I fainted once two years ago at a blood draw, please have me lie down for my labs",
    # routine using alarm-ish words
    "Please refill my nitroglycerin, I haven't needed it in months but it expired",
    "Need a refill of my EpiPen before school starts",
    "Refill my albuterol inhaler please, last one ran out",
    "My insurance needs a letter saying my inhaler is medically necessary",
    "Can I get the results of my chest CT from last week?",
    "When are the blood test results back? The bleeding time one",
    "Please send my seizure medicine to Walgreens",
    "I'd like to book a stress test follow-up, cardiologist asked me to",
    "Can I get my flu shot on Saturday?",
    "What time is my appointment with Dr. Ana on Tuesday?",
    "Reschedule my colonoscopy please, I can't make it Friday",
    "Can you fax my records to my new cardiologist?",
    "Can you update my emergency contact to my daughter Rosa?",
    "necesito cambiar mi cita del viernes, tengo trabajo",
    "Se me acabó la metformina, ¿pueden mandarla a la farmacia?",
    "¿Ya están mis resultados de sangre?",
    "My mom's dementia is about the same, can we get a home health referral?",
    "Can I take Tylenol with my blood pressure pills?",
    "I'm out of breath after running 5 miles, is that normal for training?",
    "The new pill makes me a bit nauseous in the morning, should I take it with food?",
    "my baby is 9 months old and has a slight fever of 100.2 from teething, just fyi",
    "my 3 year old has a fever of 101 and a runny nose, eating and playing fine",
    "I bled a little after my blood draw but it stopped right away",
    "Spotting between periods for a couple of months, not pregnant, can I get an appointment?",
    "I had a nosebleed this morning that stopped after 5 minutes, it's dry here",
    "My stool is dark since I started iron pills, is that expected?",
    "I get dizzy sometimes when I stand up too fast, can we discuss at my next visit?",
    "my husband snores and stops breathing at night sometimes, can he get a sleep study?",
    "Please cancel my appointment, I'm feeling much better",
    "I need a work note for missing Monday, I had a cold",
    "My daughter's school needs her vaccine record",
    "Can I get a referral to a therapist? I've been feeling down but I'm safe",
    "The suicide prevention hotline number on your website is wrong, just fyi",
    "Could you send a prescription for a new spacer for my son's inhaler?",
    "Billing question: I was charged for the ER visit in January",
    "Are you open on the holiday? I need to pick up a form",
    "my pulse ox read 97 and heart rate 72, just reporting for the remote monitoring",
    "Potassium was 4.1, is that fine?",
    "INR was 2.5 this week, same dose?",
    "mi presión salió 130/85, ¿está bien?",
    "I've been feeling a bit down since my dog died, can I talk to someone next week?",
    "I'm a bit worried about my cholesterol numbers, can we go over them?",
    "My heart rate has been a little high on my watch when I exercise, can we talk about it at my checkup?",
    "I want to stop taking my blood thinner because of the cost, can we discuss alternatives?",
    "Quisiera saber si puedo tomar ibuprofeno con mi medicina de la presión",
    "Need to reschedule my prenatal visit at 20 weeks, everything is fine",
    "Mi bebé de 2 años tiene tos y mocos, sin fiebre",
    "my chest congestion is a little better, still coughing up some yellow stuff",
]


def all_cases() -> list[tuple[str, bool]]:
    return [(t, True) for t in URGENT] + [(t, False) for t in NOT_URGENT]


# The figures on this set when the urgent layers were added (it was then used for tuning):
# before, urgent 60/82 and false alarms 9/83; after, 82/82 and 1/83.
DEV_RECALL_FLOOR = 0.97
DEV_FPR_CEILING = 0.05
