"""How patients (and staff) write: compositional templates, English and Spanish.

A patient message is assembled from an opener, an optional caregiver introduction, one or two
intent bodies, optional negated or historical alarm cues or a truly urgent complaint, a closer
and a sign-off; then, sometimes, a seeded typo pass. Templates use ``{token}`` placeholders for
context (``med``, ``pharm``, ``doc`` ...) and for grammatical person, so the same body reads
"I need a refill of my metformin" or, written by a daughter, "she needs a refill of her metformin".
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from triage_tui.domain.codes import Category

# --------------------------------------------------------------------------------------------
# Catalogues
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Med:
    generic: str  # as prescribed
    strength: str
    form: str
    sig: str  # dosage instruction text
    plain_en: str  # how patients call it ("blood pressure pill")
    es: str  # Spanish generic name
    plain_es: str
    misspelled: tuple[str, ...] = ()
    child_ok: bool = False


MEDS: tuple[Med, ...] = (
    Med("lisinopril", "10 mg", "tablet", "Take 1 tablet by mouth once daily",
        "blood pressure pill", "lisinopril", "pastilla de la presión", ("lisinipril", "lysinopril")),
    Med("lisinopril", "20 mg", "tablet", "Take 1 tablet by mouth once daily",
        "blood pressure pill", "lisinopril", "pastilla de la presión", ("lisinipril",)),
    Med("amlodipine", "5 mg", "tablet", "Take 1 tablet by mouth once daily",
        "blood pressure pill", "amlodipino", "pastilla de la presión", ("amlodopine", "amlodipene")),
    Med("losartan", "50 mg", "tablet", "Take 1 tablet by mouth once daily",
        "blood pressure medicine", "losartán", "pastilla de la presión", ("losarten",)),
    Med("hydrochlorothiazide", "25 mg", "tablet", "Take 1 tablet by mouth every morning",
        "water pill", "hidroclorotiazida", "pastilla para el agua", ("hydrochlorathiazide", "HCTZ")),
    Med("metoprolol succinate ER", "25 mg", "tablet", "Take 1 tablet by mouth once daily",
        "heart pill", "metoprolol", "pastilla del corazón", ("metoprolal", "metropolol")),
    Med("carvedilol", "12.5 mg", "tablet", "Take 1 tablet by mouth twice daily with food",
        "heart pill", "carvedilol", "pastilla del corazón", ("carvedilo",)),
    Med("metformin", "500 mg", "tablet", "Take 1 tablet by mouth twice daily with meals",
        "diabetes medicine", "metformina", "medicina del azúcar", ("metforman", "metphormin")),
    Med("metformin ER", "1000 mg", "tablet", "Take 1 tablet by mouth once daily with dinner",
        "sugar pill", "metformina", "medicina del azúcar", ("metformen",)),
    Med("glipizide", "5 mg", "tablet", "Take 1 tablet by mouth before breakfast",
        "diabetes pill", "glipizida", "pastilla del azúcar", ("glipazide",)),
    Med("insulin glargine", "100 units/mL", "pen", "Inject 20 units under the skin at bedtime",
        "insulin", "insulina glargina", "insulina", ("lantis", "insulin glargene")),
    Med("atorvastatin", "20 mg", "tablet", "Take 1 tablet by mouth at bedtime",
        "cholesterol pill", "atorvastatina", "pastilla del colesterol", ("atorvastin", "atorvastaten")),
    Med("rosuvastatin", "10 mg", "tablet", "Take 1 tablet by mouth once daily",
        "cholesterol medicine", "rosuvastatina", "pastilla del colesterol", ("rosuvastatine",)),
    Med("simvastatin", "40 mg", "tablet", "Take 1 tablet by mouth at bedtime",
        "cholesterol pill", "simvastatina", "pastilla del colesterol", ("simvastaten",)),
    Med("levothyroxine", "75 mcg", "tablet", "Take 1 tablet by mouth every morning on an empty stomach",
        "thyroid pill", "levotiroxina", "pastilla de la tiroides", ("levothyroxin", "levothyroxene")),
    Med("levothyroxine", "100 mcg", "tablet", "Take 1 tablet by mouth every morning on an empty stomach",
        "thyroid medicine", "levotiroxina", "pastilla de la tiroides", ("levothyroxine 100",)),
    Med("omeprazole", "20 mg", "capsule", "Take 1 capsule by mouth before breakfast",
        "stomach pill", "omeprazol", "pastilla del estómago", ("omeprazol", "omeprazole20")),
    Med("pantoprazole", "40 mg", "tablet", "Take 1 tablet by mouth once daily before breakfast",
        "acid reflux pill", "pantoprazol", "pastilla de la gastritis", ("pantoprazol",)),
    Med("sertraline", "50 mg", "tablet", "Take 1 tablet by mouth once daily",
        "anxiety medicine", "sertralina", "pastilla para la ansiedad", ("sertaline", "setraline")),
    Med("escitalopram", "10 mg", "tablet", "Take 1 tablet by mouth once daily",
        "depression medicine", "escitalopram", "pastilla para la depresión", ("escitalopam",)),
    Med("bupropion XL", "150 mg", "tablet", "Take 1 tablet by mouth every morning",
        "mood medicine", "bupropión", "pastilla para el ánimo", ("buproprion",)),
    Med("buspirone", "10 mg", "tablet", "Take 1 tablet by mouth twice daily",
        "anxiety pill", "buspirona", "pastilla de los nervios", ("buspiron",)),
    Med("albuterol HFA", "90 mcg/actuation", "inhaler",
        "Inhale 2 puffs by mouth every 4 to 6 hours as needed for wheezing",
        "inhaler", "salbutamol", "inhalador", ("albuteral", "albuterol inhaler"), True),
    Med("fluticasone propionate", "50 mcg/spray", "nasal spray", "Use 2 sprays in each nostril once daily",
        "nose spray", "fluticasona", "spray para la nariz", ("flonase",), True),
    Med("montelukast", "10 mg", "tablet", "Take 1 tablet by mouth at bedtime",
        "allergy pill", "montelukast", "pastilla de la alergia", ("montelucast",), True),
    Med("cetirizine", "10 mg", "tablet", "Take 1 tablet by mouth once daily as needed",
        "allergy medicine", "cetirizina", "pastilla de la alergia", ("cetirizene",), True),
    Med("gabapentin", "300 mg", "capsule", "Take 1 capsule by mouth three times daily",
        "nerve pain medicine", "gabapentina", "medicina para el dolor de nervios", ("gabapenten",)),
    Med("tamsulosin", "0.4 mg", "capsule", "Take 1 capsule by mouth 30 minutes after dinner",
        "prostate pill", "tamsulosina", "pastilla de la próstata", ("tamsulosen",)),
    Med("allopurinol", "100 mg", "tablet", "Take 1 tablet by mouth once daily",
        "gout pill", "alopurinol", "pastilla para la gota", ("allopurinal",)),
    Med("meloxicam", "15 mg", "tablet", "Take 1 tablet by mouth once daily with food",
        "arthritis pill", "meloxicam", "pastilla de la artritis", ("meloxicame",)),
    Med("trazodone", "50 mg", "tablet", "Take 1 tablet by mouth at bedtime as needed for sleep",
        "sleep pill", "trazodona", "pastilla para dormir", ("trazadone",)),
    Med("clopidogrel", "75 mg", "tablet", "Take 1 tablet by mouth once daily",
        "blood thinner", "clopidogrel", "pastilla para la sangre", ("clopidegrel",)),
    Med("apixaban", "5 mg", "tablet", "Take 1 tablet by mouth twice daily",
        "blood thinner", "apixabán", "anticoagulante", ("apixiban",)),
    Med("furosemide", "20 mg", "tablet", "Take 1 tablet by mouth every morning",
        "water pill", "furosemida", "pastilla para el agua", ("furosemid",)),
    Med("estradiol", "1 mg", "tablet", "Take 1 tablet by mouth once daily",
        "hormone pill", "estradiol", "pastilla de hormonas", ("estradial",)),
)

# New prescriptions that can cause an allergic reaction (for the anaphylaxis scenario).
NEW_MEDS_EN = ("amoxicillin", "the antibiotic", "Bactrim", "cephalexin", "naproxen", "lisinopril")
NEW_MEDS_ES = ("amoxicilina", "el antibiótico", "la cefalexina", "el naproxeno", "la pastilla nueva")


@dataclass(frozen=True, slots=True)
class Lab:
    name: str  # Observation.code.text
    plain_en: str  # how patients call it
    plain_es: str
    unit: str  # UCUM code, also used as the display unit
    low: float
    high: float
    decimals: int


LABS: tuple[Lab, ...] = (
    Lab("Hemoglobin A1c", "A1c", "la hemoglobina glicosilada", "%", 4.0, 5.6, 1),
    Lab("LDL cholesterol", "cholesterol", "el colesterol", "mg/dL", 0.0, 99.0, 0),
    Lab("Thyroid stimulating hormone", "thyroid test", "la tiroides", "m[IU]/L", 0.4, 4.0, 2),
    Lab("Potassium", "potassium", "el potasio", "mmol/L", 3.5, 5.1, 1),
    Lab("Hemoglobin", "blood count", "la hemoglobina", "g/dL", 12.0, 17.5, 1),
    Lab("Creatinine", "kidney test", "la creatinina", "mg/dL", 0.6, 1.3, 2),
    Lab("25-hydroxyvitamin D", "vitamin D", "la vitamina D", "ng/mL", 30.0, 100.0, 0),
    Lab("Glucose, fasting", "sugar test", "la glucosa", "mg/dL", 70.0, 99.0, 0),
    Lab("White blood cell count", "white count", "los glóbulos blancos", "10*3/uL", 4.5, 11.0, 1),
    Lab("Prostate specific antigen", "PSA", "el antígeno prostático", "ng/mL", 0.0, 4.0, 1),
    Lab("Alanine aminotransferase", "liver test", "las pruebas del hígado", "U/L", 7.0, 56.0, 0),
    Lab("Ferritin", "iron level", "el hierro", "ng/mL", 24.0, 336.0, 0),
)

# Fictional pharmacies.
PHARMACIES = (
    "Maple Street Pharmacy", "Riverside Drug", "Oak Park Apothecary", "Hillcrest Pharmacy",
    "Sunrise Family Pharmacy", "Lakeview Drugs", "Central Avenue Pharmacy",
    "Farmacia La Esperanza", "Willow Creek Pharmacy", "Northgate Pharmacy #12",
    "Cedar Plaza Pharmacy", "Main Street Drug", "Bayside Pharmacy", "Pinecrest Rx",
)

APPOINTMENT_REASONS = (
    "Annual physical", "Follow-up: blood pressure", "Follow-up: diabetes", "Medication review",
    "Sick visit", "Wellness visit", "Telehealth follow-up", "Follow-up: thyroid",
    "Follow-up: knee pain", "Follow-up: cholesterol",
)
APPOINTMENT_REASONS_CHILD = ("Well-child check", "Sick visit", "Sports physical", "Vaccines")

WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")

# --------------------------------------------------------------------------------------------
# Grammatical person
# --------------------------------------------------------------------------------------------

PERSON_EN_1 = {
    "I": "I", "my": "my", "me": "me", "Im": "I'm", "Ive": "I've", "Id": "I'd", "have": "have",
    "need": "need", "do": "do", "dont": "don't", "feel": "feel", "was": "was", "am": "am",
    "myself": "myself", "think": "think",
}
PERSON_EN_3M = {
    "I": "he", "my": "his", "me": "him", "Im": "he's", "Ive": "he's", "Id": "he'd", "have": "has",
    "need": "needs", "do": "does", "dont": "doesn't", "feel": "feels", "was": "was", "am": "is",
    "myself": "himself", "think": "thinks",
}
PERSON_EN_3F = {
    **PERSON_EN_3M, "I": "she", "my": "her", "me": "her", "Im": "she's", "Ive": "she's",
    "Id": "she'd", "myself": "herself",
}
PERSON_ES_1 = {
    "mi": "mi", "me": "me", "tengo": "tengo", "necesito": "necesito", "estoy": "estoy",
    "puedo": "puedo", "he": "he", "quitarme": "quitarme", "empece": "empecé", "tuve": "tuve",
    "hago": "hago", "siento": "siento", "tomo": "tomo",
}
PERSON_ES_3 = {
    "mi": "su", "me": "le", "tengo": "tiene", "necesito": "necesita", "estoy": "está",
    "puedo": "puede", "he": "ha", "quitarme": "quitarse", "empece": "empezó", "tuve": "tuvo",
    "hago": "hace", "siento": "siente", "tomo": "toma",
}


def person(lang: str, third: bool, gender: str) -> dict[str, str]:
    if lang == "es":
        return PERSON_ES_3 if third else PERSON_ES_1
    if not third:
        return PERSON_EN_1
    return PERSON_EN_3F if gender == "female" else PERSON_EN_3M


# --------------------------------------------------------------------------------------------
# Patient templates
# --------------------------------------------------------------------------------------------

OPENERS = {
    "en": (
        "Hi", "Hello", "Hey", "Good morning", "Good afternoon", "Good evening", "Hi Dr. {doc}",
        "Hello Dr. {doc}", "Dear Dr. {doc}", "Dr {doc}", "Hi Dr {doc}", "Hello nurse", "Hi nurse",
        "Hi team", "Hi there", "Hello there", "To whom it may concern", "Hi it's {pfirst}",
        "Hi, this is {pfirst} {plast}", "This is {pfirst} {plast}",
        "Hello, my name is {pfirst} {plast}", "Morning", "Hi again", "Dear office staff",
        "Hello Dr. {doc}'s office", "Hi everyone", "Sorry to bother you", "Hope you are well",
        "Hi, quick question", "Hello, I hope you're having a good day", "Yo", "Greetings",
        "Hi {pfirst} here", "Good morning Dr. {doc}", "HELLO",
    ),
    "es": (
        "Hola", "Buenos días", "Buenas tardes", "Buenas noches", "Hola doctor {doc}",
        "Hola Dr. {doc}", "Estimado Dr. {doc}", "Buen día", "Hola, soy {pfirst} {plast}",
        "Disculpe la molestia", "Hola enfermera", "Saludos", "Buenas", "Hola, habla {pfirst}",
        "Qué tal", "Buenos días doctor", "Hola, mi nombre es {pfirst} {plast}",
    ),
}
OPENER_PUNCT = (",", ",", "!", ".", " -", "", ",\n", "\n\n", ",  ", "...")

CAREGIVER_INTROS = {
    "en": (
        "I'm writing for my {rel} {pfirst}.", "This is {cg}, {pfirst}'s {writer}.",
        "Writing for my {rel}.", "My {rel} {pfirst} asked me to message you.",
        "I am {pfirst}'s {writer} and I help with {my} medical stuff.",
        "this is about my {rel} {pfirst} {plast}, DOB {dob}.", "Messaging on behalf of my {rel}.",
        "{cg} here, {pfirst}'s {writer}.",
    ),
    "es": (
        "Le escribo por mi {rel} {pfirst}.", "Soy {cg}, {writer} de {pfirst}.",
        "Escribo por parte de mi {rel}.", "Mi {rel} {pfirst} me pidió que les escribiera.",
        "es sobre mi {rel} {pfirst} {plast}, nació el {dob}.",
    ),
}

BODIES: dict[str, dict[Category, tuple[str, ...]]] = {
    "en": {
        Category.REFILL: (
            "{I} {need} a refill on {my} {med}",
            "can you please send {my} {med} to {pharm}",
            "{Im} almost out of {my} {med}, only {n} pills left",
            "the pharmacy says {I} {have} no refills left on {medname}",
            "please refill {medname} {dose}",
            "{my} {med} ran out {when_past}, can you call it in to {pharm}",
            "{pharm} said they faxed over a refill request for {my} {medname} {n} days ago and still nothing",
            "{I} switched pharmacies, please send {my} {med} to {pharm} from now on",
            "can {I} get a 90 day supply of {medname}? insurance wants 90 days now",
            "{Im} traveling next week and {need} {my} {med} refilled early",
            "could you renew the prescription for {medname}? the bottle says 0 refills",
            "requesting refill: {medname} {dose}",
            "{I} lost {my} {med}, can {I} get a new prescription",
            "need refill of {medname} asap, ran out yesterday",
            "the {medname} from {pharm} looks different than usual, is it the same thing? also need more",
            "{I} {need} more of the {med}. {pharm} please",
            "refill {medname} pls",
            "{my} {medname} {dose} needs to be renewed, {I} take it every day",
        ),
        Category.APPOINTMENT: (
            "{I} {need} to reschedule {my} appointment {appt_when}",
            "can {I} get in to see Dr. {doc} this week",
            "{I} {need} to cancel {my} appt {appt_when}, something came up",
            "is there anything earlier than {my} appointment {appt_when}?",
            "{I} {need} {my} annual physical, when is the next opening",
            "can {I} do a telehealth visit instead of coming in {appt_when}",
            "what time is {my} appointment {appt_when}? lost the reminder card",
            "{Id} like to book a follow up for {my} {condition}",
            "do {I} {need} to fast before {my} appointment {appt_when}",
            "running about 20 min late for {my} appointment, is that ok",
            "can {I} get a sick visit today or tomorrow",
            "please move {my} appointment {appt_when} to the afternoon if possible",
            "when is {my} next appointment with Dr. {doc}",
            "{I} {need} a follow up about {my} {condition}, any openings next week?",
            "can I bring {my} paperwork to the appointment {appt_when}",
        ),
        Category.RESULTS: (
            "did you get {my} {lab} results back",
            "{my} {lab} says {flag} on the portal, what does that mean",
            "I saw {my} {lab} was {value} {unit}, is that bad?",
            "can someone explain {my} lab results from {date}",
            "the portal has {lab} flagged {flag}, should {I} be worried",
            "are {my} blood test results normal?",
            "still waiting on the results from {my} {lab}, it's been a week",
            "Dr. {doc} said someone would call about {my} {lab} but nobody did",
            "{my} {lab} was {value}, last time it was lower. do {I} {need} to change anything",
            "got a notification that results are in but I can't open them",
            "what does {flag} mean next to {my} {lab}",
            "is {value} ok for {lab}?",
        ),
        Category.CLINICAL: (
            "{I} {have} had a cough for {dur} and it's not getting better",
            "{my} {bodypart} has been hurting for {dur}",
            "{I} {think} {I} {have} a UTI again, burning when peeing",
            "rash on {my} {bodypart} since {when_past}, really itchy",
            "is it ok to take ibuprofen with {my} {med}",
            "{my} blood pressure at home was {bp} this morning",
            "{Ive} been feeling dizzy when standing up since starting {medname}",
            "sore throat and congestion for {dur}, do {I} {need} to come in",
            "{my} sugars have been running {sugar} in the mornings",
            "{medname} is upsetting {my} stomach, can {I} take it with food",
            "{my} ear has been hurting for {dur}",
            "headache that comes and goes for {dur}, tylenol helps a little",
            "can {I} get the flu shot at {my} next visit",
            "{I} {have} been more tired than usual for {dur}",
            "swollen ankles at the end of the day, is that from the {medname}",
            "{Ive} had diarrhea for {dur}, keeping fluids down ok",
            "{I} twisted {my} {bodypart} {when_past}, still swollen",
            "{my} {bodypart} is red and warm around a cut",
        ),
        Category.ADMIN: (
            "can you fill out {my} FMLA paperwork, I dropped it off {when_past}",
            "{I} {need} a copy of {my} immunization records for school",
            "{my} insurance changed, how do I update it",
            "I got a bill for ${amount} that I think insurance should have covered",
            "{I} {need} a note for work saying {I} {was} seen on {date}",
            "please update {my} address, we moved",
            "can you send {my} records to the new specialist",
            "how do I get a disabled parking form signed",
            "{I} {need} a sports physical form filled out",
            "the portal won't let me log in on my phone",
            "prior authorization for {medname}, the pharmacy says they're waiting on you",
            "can I get a copy of the visit summary from {date}",
            "please change {my} phone number on file",
        ),
    },
    "es": {
        Category.REFILL: (
            "{necesito} una receta de {mi} {med}",
            "se {me} acabó {mi} {med}, ¿la pueden mandar a {pharm}?",
            "la farmacia dice que ya no {tengo} resurtidos de {medname}",
            "¿pueden mandar {mi} {med} a {pharm}? solo {me} quedan {n} pastillas",
            "ocupo más {medname}, ya casi no {tengo}",
            "{necesito} el resurtido de {mi} {medname} {dose} por favor",
            "por favor renueven la receta de {medname}, el frasco dice 0 resurtidos",
            "cambié de farmacia, manden {mi} {med} a {pharm} por favor",
        ),
        Category.APPOINTMENT: (
            "{necesito} cambiar {mi} cita {appt_when}",
            "¿hay citas esta semana con el doctor {doc}?",
            "quiero cancelar la cita {appt_when}, no vamos a poder ir",
            "¿a qué hora es {mi} cita {appt_when}?",
            "quisiera una cita para {mi} chequeo anual",
            "¿puede ser por video la consulta {appt_when}?",
            "¿{tengo} que ir en ayunas a la cita {appt_when}?",
            "¿hay algo más temprano que la cita {appt_when}?",
        ),
        Category.RESULTS: (
            "¿ya llegaron {mi}s resultados de {lab}?",
            "vi en el portal que {lab} salió {flag}, ¿es malo?",
            "¿me pueden explicar los resultados de laboratorio del {date}?",
            "salió {lab} en {value} {unit}, ¿qué significa?",
            "sigo esperando los resultados de los análisis de sangre",
            "el doctor {doc} dijo que me iban a llamar por los resultados y nadie llamó",
        ),
        Category.CLINICAL: (
            "{tengo} tos desde hace {dur} y no se quita",
            "{me} duele {bodypart} desde hace {dur}",
            "¿{puedo} tomar ibuprofeno con {mi} {med}?",
            "{tengo} ardor al orinar otra vez",
            "la presión {me} salió {bp} esta mañana",
            "{tengo} una roncha en {bodypart} que pica mucho",
            "{tengo} mareos cuando {me} levanto desde que {empece} {medname}",
            "dolor de garganta y mocos desde hace {dur}, ¿{tengo} que ir?",
            "el azúcar {me} sale en {sugar} en las mañanas",
        ),
        Category.ADMIN: (
            "{necesito} una carta para el trabajo",
            "¿me pueden llenar los papeles de incapacidad?",
            "{necesito} copia de {mi} cartilla de vacunación para la escuela",
            "me llegó un cobro de ${amount} que debería cubrir el seguro",
            "cambié de seguro, ¿cómo actualizo los datos?",
            "por favor actualicen {mi} número de teléfono",
            "¿pueden mandar {mi} expediente al especialista?",
        ),
    },
}

CONNECTORS = {
    "en": ("Also", "Also,", "And also", "One more thing,", "Oh and", "PS", "Also while I have you,",
           "and", "Second question:", "Plus"),
    "es": ("También", "Y también", "Otra cosa,", "Ah, y", "Aparte,"),
}

# (text, has the obvious keyword)
URGENT: dict[str, dict[str, tuple[tuple[str, bool], ...]]] = {
    "en": {
        "chest_pain": (
            ("{I} {have} chest pain that goes into {my} left arm since {time}", True),
            ("there's a heavy pressure in the middle of {my} chest and {Im} sweating a lot", False),
            ("feels like an elephant is sitting on {my} chest, started an hour ago", False),
            ("bad chest pain and {my} jaw hurts, getting worse", True),
            ("{I} {have} a tight squeezing feeling behind {my} breastbone and {feel} like throwing up", False),
        ),
        "breathing": (
            ("{I} can't breathe, the inhaler isn't helping", True),
            ("{I} can only say a few words at a time before needing air and {my} lips look kind of blue", False),
            ("short of breath even sitting still, getting worse since this morning", True),
            ("struggling to get air in, wheezing and everything is tight", False),
        ),
        "anaphylaxis": (
            ("{my} lips and throat are swelling since {I} started the new {newmed}", True),
            ("started {newmed} yesterday and now {my} tongue feels thick and {Im} itchy all over", False),
            ("{my} face is puffy and it's hard to swallow after the new pill", False),
            ("hives everywhere and {my} throat feels tight after taking {newmed}", True),
        ),
        "suicidal": (
            ("{Ive} been having thoughts of ending {my} life", True),
            ("{I} {dont} see the point in going on anymore and {Ive} been saving up {my} pills", False),
            ("honestly everyone would be better off without {me}", False),
            ("{Ive} been thinking about suicide a lot this week", True),
        ),
        "stroke": (
            ("{my} face feels numb on one side and words come out wrong", False),
            ("{my} face is drooping on the right and {I} can't lift {my} arm", False),
            ("sudden worst headache of {my} life and {my} vision is double", False),
            ("{I} {think} {Im} having a stroke, {my} left side is weak", True),
        ),
        "infant_fever": (
            ("{pfirst} is {weeks} weeks old and has a fever of {temp_f}", True),
            ("the baby feels burning hot, {temp_f} on the thermometer, and won't feed", False),
            ("my {weeks} week old has a temp of {temp_f} and is very sleepy", True),
            ("{pfirst} ({weeks} weeks) is hot to the touch, {temp_c} C, crying and not eating", False),
        ),
    },
    "es": {
        "chest_pain": (
            ("{tengo} dolor de pecho que se va al brazo izquierdo", True),
            ("{siento} una presión muy fuerte en el pecho y {estoy} sudando frío", False),
        ),
        "breathing": (
            ("no {puedo} respirar bien, el inhalador no ayuda", True),
            ("{me} falta el aire aunque no {hago} nada y los labios se ven morados", False),
        ),
        "anaphylaxis": (
            ("se {me} están hinchando los labios y la garganta desde {newmed}", True),
            ("{empece} {newmed} ayer y ahora la lengua se siente gruesa y comezón en todo el cuerpo", False),
        ),
        "suicidal": (
            ("{he} pensado en {quitarme} la vida", True),
            ("ya no le veo sentido a nada y {he} juntado pastillas", False),
        ),
        "stroke": (
            ("se {me} durmió la mitad de la cara y no {me} salen las palabras", False),
            ("{tengo} la cara chueca de un lado y no {puedo} levantar el brazo", False),
        ),
        "infant_fever": (
            ("mi bebé de {weeks} semanas tiene {temp_c} de fiebre", True),
            ("el bebé está muy caliente, {temp_c} en el termómetro, y no quiere comer", False),
        ),
    },
}
URGENT_KINDS = ("chest_pain", "breathing", "anaphylaxis", "suicidal", "stroke", "infant_fever")

NEGATIONS = {
    "en": (
        "No chest pain, just need {my} refill.",
        "No chest pain or anything like that.",
        "Not an emergency.",
        "No fever.",
        "{Im} not having any chest pain or trouble breathing.",
        "No shortness of breath, just congested.",
        "no swelling or rash this time",
        "Not suicidal or anything, just feeling down lately.",
        "No numbness or weakness, just a headache.",
        "denies chest pain lol, my {rel2} is a nurse",
    ),
    "es": (
        "No {tengo} fiebre.",
        "No es urgente.",
        "No {tengo} dolor de pecho ni nada, solo {necesito} {mi} receta.",
        "No {me} falta el aire.",
    ),
}
HISTORIES = {
    "en": (
        "{I} had chest pain last year (it turned out to be reflux), now {I} just {need} the refill.",
        "{my} dad had a stroke in {year} so {Im} careful with {my} blood pressure.",
        "After the ER visit for chest pain in {year} they started {me} on {medname}.",
        "Years ago {I} had an allergic reaction to penicillin.",
        "Back in {year} {I} {was} hospitalized for pneumonia, so {Im} being careful.",
        "{I} {have} a history of blood clots.",
    ),
    "es": (
        "El año pasado {tuve} dolor de pecho pero ya {estoy} bien.",
        "Mi papá tuvo un derrame en {year}, por eso cuido la presión.",
    ),
}

CLOSERS = {
    "en": ("Thanks", "Thank you", "Thanks so much", "thx", "Thank you!", "Appreciate it",
           "Thanks for your help", "Please call me back", "Please let me know", "Let me know",
           "Have a good day", "God bless", "ty", "Thanks in advance", "Call me at {phone} if needed",
           "Thank you very much.", "thanks!!"),
    "es": ("Gracias", "Muchas gracias", "Mil gracias", "Gracias de antemano", "Quedo atento",
           "Que Dios lo bendiga", "Saludos", "Espero su respuesta", "Gracias!!"),
}
SIGNOFFS = {
    "en": ("{pfirst}", "- {pfirst}", "{pfirst} {plast}", "Sent from my iPhone", "{pfirst} {pinit}.",
           "-{pfirst}"),
    "es": ("{pfirst}", "{pfirst} {plast}", "Enviado desde mi iPhone", "- {pfirst}"),
}
SIGNOFFS_CG = {
    "en": ("{cg} ({pfirst}'s {writer})", "{cg}", "- {cg}"),
    "es": ("{cg} ({writer} de {pfirst})", "{cg}"),
}

SUBJECTS: dict[str, dict[Category, tuple[str, ...]]] = {
    "en": {
        Category.REFILL: ("Refill", "refill request", "Medication refill", "Rx refill", "need refill",
                          "{medname} refill", "Prescription", "refills", "Refill - {medname}", "meds"),
        Category.APPOINTMENT: ("Appointment", "appt", "Reschedule", "Need appointment", "cancel appt",
                               "Scheduling", "Appointment question", "annual physical", "Follow up"),
        Category.RESULTS: ("Lab results", "results?", "Test results", "Question about my labs",
                           "{lab} results", "bloodwork", "Lab question"),
        Category.CLINICAL: ("Question", "medical question", "Not feeling well", "Symptoms",
                            "question for the nurse", "Advice please", "Question for Dr. {doc}",
                            "health concern"),
        Category.ADMIN: ("Paperwork", "Forms", "Billing question", "Records request", "Insurance",
                         "Work note", "Question", "portal login"),
    },
    "es": {
        Category.REFILL: ("Receta", "Resurtido", "Medicamento", "receta de {medname}"),
        Category.APPOINTMENT: ("Cita", "cambio de cita", "cancelar cita", "Consulta"),
        Category.RESULTS: ("Resultados", "resultados de laboratorio", "análisis"),
        Category.CLINICAL: ("Pregunta", "consulta", "me siento mal", "síntomas"),
        Category.ADMIN: ("Papeles", "Seguro", "Factura", "Carta para el trabajo"),
    },
}
SUBJECTS_URGENT = {
    "en": ("URGENT", "please call", "help", "need help today", "Question", "not feeling well",
           "(no subject)", "worried"),
    "es": ("URGENTE", "ayuda", "por favor llamen", "Pregunta"),
}
SUBJECTS_MULTI = {
    "en": ("refill and appointment", "refill + appt", "couple of things", "few questions",
           "(no subject)"),
    "es": ("varias cosas", "receta y cita"),
}

NUDGES = {
    "en": ("any update?", "hello?? still waiting on this", "following up on my message",
           "Just checking if you got this", "???", "is anyone there",
           "sorry, forgot to say I use {pharm}", "can someone call me back please"),
    "es": ("¿alguna noticia?", "sigo esperando respuesta", "¿recibieron mi mensaje?"),
}
NUDGES_URGENT = {
    "en": ("it's getting worse", "please answer, this is getting worse", "still the same, scared"),
    "es": ("se está poniendo peor", "por favor contesten"),
}
FOLLOWUPS = {
    "en": ("{pharm} please", "the one on main street", "yes that works, thank you",
           "mornings are better for me", "ok sounds good", "yes still taking it",
           "{slot} works", "about {dur}, no fever", "here they are: {bp}, {bp}", "thank you!",
           "afternoon if possible", "I'll upload it tonight"),
    "es": ("sí, gracias", "en la mañana por favor", "está bien", "{pharm} por favor",
           "sí, todavía la tomo", "{slot} está bien"),
}
THANKS = {
    "en": ("thank you!", "Got it, thanks", "thanks so much", "ok", "Perfect, thank you",
           "thanks, have a nice weekend"),
    "es": ("gracias", "muchas gracias", "perfecto, gracias"),
}

# --------------------------------------------------------------------------------------------
# Staff templates
# --------------------------------------------------------------------------------------------

STAFF_CLOSE: dict[str, dict[Category, tuple[str, ...]]] = {
    "en": {
        Category.REFILL: (
            "Hi {pfirst}, your {rxname} refill was sent to {pharm}. It should be ready later today. {sig}",
            "Hello {pfirst}, Dr. {doc} approved a 90 day supply of {rxname} with {repeats} refills; "
            "it went to {pharm}. {sig}",
            "Hi {pfirst}, we sent {rxname} to {pharm}. Please book a follow-up before the next refill. {sig}",
        ),
        Category.APPOINTMENT: (
            "Hi {pfirst}, you are all set for {slot}. Please arrive 15 minutes early. {sig}",
            "Hello {pfirst}, your appointment has been cancelled. Reply here when you want to rebook. {sig}",
            "Hi {pfirst}, we moved you to {slot}. {sig}",
        ),
        Category.RESULTS: (
            "Hi {pfirst}, Dr. {doc} reviewed your {labname}: {interp}. No changes for now, "
            "we will recheck at your next visit. {sig}",
            "Hello {pfirst}, your {labname} is {interp}. Dr. {doc} would like to repeat it in 3 months. {sig}",
        ),
        Category.CLINICAL: (
            "Hi {pfirst}, thanks for letting us know. Dr. {doc} recommends rest, fluids and "
            "acetaminophen as needed; please book a visit if you are not better in a week. {sig}",
            "Hello {pfirst}, those can be taken together. Call us if anything changes. {sig}",
            "Hi {pfirst}, please come in so we can take a look. We booked you for {slot}. {sig}",
        ),
        Category.ADMIN: (
            "Hi {pfirst}, the form is ready for pickup at the front desk. {sig}",
            "Hello {pfirst}, your records were sent. {sig}",
            "Hi {pfirst}, we updated your information. {sig}",
        ),
    },
    "es": {
        Category.REFILL: ("Hola {pfirst}, mandamos su receta de {rxname} a {pharm}. {sig}",),
        Category.APPOINTMENT: ("Hola {pfirst}, su cita quedó para {slot}. Llegue 15 minutos antes. {sig}",),
        Category.RESULTS: ("Hola {pfirst}, el Dr. {doc} revisó sus resultados de {labname}. "
                           "Por ahora no hay cambios. {sig}",),
        Category.CLINICAL: ("Hola {pfirst}, gracias por avisarnos. Si no mejora en una semana, "
                            "haga una cita. {sig}",),
        Category.ADMIN: ("Hola {pfirst}, sus papeles están listos en la recepción. {sig}",),
    },
}
STAFF_ASK: dict[str, dict[Category, tuple[str, ...]]] = {
    "en": {
        Category.REFILL: (
            "Hi {pfirst}, which pharmacy should we send it to? {sig}",
            "Hi {pfirst}, Dr. {doc} needs to see you before renewing {rxname}. Can you come in this week? {sig}",
            "Hello {pfirst}, are you still taking {dose} of {rxname}? {sig}",
        ),
        Category.APPOINTMENT: (
            "Hi {pfirst}, we have {slot} or {slot2}. Which works better? {sig}",
            "Hello {pfirst}, is this for a new problem or a follow-up? {sig}",
        ),
        Category.RESULTS: (
            "Hi {pfirst}, Dr. {doc} would like to go over these with you. Can you do a phone visit {slot}? {sig}",
        ),
        Category.CLINICAL: (
            "Hi {pfirst}, how long has this been going on, and do you have a fever? {sig}",
            "Hello {pfirst}, can you send us your blood pressure readings for the last few days? {sig}",
        ),
        Category.ADMIN: (
            "Hi {pfirst}, can you upload a photo of the front and back of your new card? {sig}",
            "Hello {pfirst}, which dates do you need the note to cover? {sig}",
        ),
    },
    "es": {
        Category.REFILL: ("Hola {pfirst}, ¿a qué farmacia la mandamos? {sig}",),
        Category.APPOINTMENT: ("Hola {pfirst}, tenemos {slot} o {slot2}. ¿Cuál le queda mejor? {sig}",),
        Category.RESULTS: ("Hola {pfirst}, el Dr. {doc} quiere hablar con usted. ¿Puede {slot}? {sig}",),
        Category.CLINICAL: ("Hola {pfirst}, ¿desde cuándo tiene esto y tiene fiebre? {sig}",),
        Category.ADMIN: ("Hola {pfirst}, ¿nos puede mandar una foto de su tarjeta del seguro? {sig}",),
    },
}
STAFF_URGENT = {
    "en": (
        "{pfirst}, these symptoms need to be checked right away. Please call 911 or go to the "
        "nearest emergency room now. We are also calling you. {sig}",
        "Hi {pfirst}, we spoke on the phone and you are on your way to the emergency department. "
        "Dr. {doc} will follow up tomorrow. {sig}",
    ),
    "es": (
        "{pfirst}, estos síntomas necesitan atención inmediata. Llame al 911 o vaya a urgencias "
        "ahora. También le estamos llamando. {sig}",
    ),
}
STAFF_SUICIDAL = {
    "en": ("{pfirst}, thank you for telling us. Please call or text 988 or call 911 now; "
           "we are calling you right away. {sig}",),
    "es": ("{pfirst}, gracias por decírnoslo. Llame o mande texto al 988 o llame al 911 ahora; "
           "le estamos llamando. {sig}",),
}
INTERP_WORDS = {"en": {"N": "normal", "H": "a little high", "L": "a little low"},
                "es": {"N": "normal", "H": "un poco alto", "L": "un poco bajo"}}
FLAG_WORDS = {"en": {"N": "normal", "H": "high", "L": "low"},
              "es": {"N": "normal", "H": "alto", "L": "bajo"}}

DURATIONS = {"en": ("2 days", "a week", "3 days", "two weeks", "about a month", "since friday",
                    "5 days", "a couple days"),
             "es": ("dos días", "una semana", "tres días", "dos semanas", "un mes")}
BODYPARTS = {"en": ("back", "knee", "shoulder", "hip", "neck", "wrist", "ankle", "foot", "arm",
                    "elbow", "leg"),
             "es": ("la espalda", "la rodilla", "el hombro", "la cadera", "el cuello", "el pie",
                    "el brazo")}
WHEN_PAST = ("yesterday", "on monday", "last week", "this morning", "two days ago", "over the weekend")
CONDITIONS = ("blood pressure", "diabetes", "knee pain", "thyroid", "back pain", "cholesterol",
              "anxiety", "asthma", "acid reflux")
ONSET_TIMES = ("this morning", "about an hour ago", "last night", "lunch", "30 minutes ago")


# --------------------------------------------------------------------------------------------
# Typos
# --------------------------------------------------------------------------------------------

_PUNCT = str.maketrans("", "", ".,!?;:'¿¡")


def typo(rng: random.Random, text: str) -> str:
    """One to three seeded typing accidents: dropped or swapped letters, all lowercase,
    no punctuation, a doubled letter."""
    if len(text) > 2000:
        return text
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.25:
            text = text.lower()
        elif r < 0.4:
            text = text.translate(_PUNCT)
        else:
            letters = [i for i in range(1, len(text) - 1) if text[i].isalpha()]
            if not letters:
                continue
            i = rng.choice(letters)
            if r < 0.65:
                text = text[:i] + text[i + 1:]
            elif r < 0.9:
                text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
            else:
                text = text[:i] + text[i] + text[i:]
    return text


def fill(template: str, ctx: dict[str, str]) -> str:
    return template.format_map(ctx)


def cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


# --------------------------------------------------------------------------------------------
# Composition
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class FirstMessage:
    text: str
    subject: str
    urgent_keyword: bool
    typo: bool


def _body(rng: random.Random, lang: str, category: Category, ctx: dict, *, has_appt: bool,
          has_obs: bool) -> str:
    options = BODIES[lang][category]
    if category is Category.APPOINTMENT and not has_appt:
        options = tuple(t for t in options if "{appt_when}" not in t)
    if category is Category.RESULTS and not has_obs:
        options = tuple(t for t in options if "{value}" not in t and "{flag}" not in t)
    return fill(rng.choice(options), ctx)


def first_message(
    rng: random.Random,
    lang: str,
    ctx: dict[str, str],
    category: Category,
    *,
    extra: Category | None = None,
    urgent_kind: str | None = None,
    negation: bool = False,
    history: bool = False,
    caregiver: bool = False,
    has_appt: bool = False,
    has_obs: bool = False,
    typo_rate: float = 0.25,
) -> FirstMessage:
    """Compose the opening patient message of a thread and its subject line."""
    parts: list[str] = []
    if rng.random() < 0.7:
        openers = OPENERS[lang]
        if caregiver:  # "Hi it's {pfirst}" is the patient speaking
            openers = tuple(o for o in openers if "{p" not in o)
        opener = fill(rng.choice(openers), ctx)
        parts.append(opener + rng.choice(OPENER_PUNCT))
    if caregiver:
        intros = CAREGIVER_INTROS[lang]
        if ctx.get("young"):  # babies and children do not ask anyone to write
            intros = tuple(i for i in intros if "asked me" not in i and "me pidió" not in i)
        parts.append(fill(rng.choice(intros), ctx))
    if negation:
        parts.append(fill(rng.choice(NEGATIONS[lang]), ctx))
    if history and rng.random() < 0.5:
        parts.append(fill(rng.choice(HISTORIES[lang]), ctx))
        history = False
    keyword = False
    body = _body(rng, lang, category, ctx, has_appt=has_appt, has_obs=has_obs)
    body = cap(body) if rng.random() < 0.7 else body
    if urgent_kind:
        utext, keyword = rng.choice(URGENT[lang][urgent_kind])
        utext = fill(utext, ctx)
        r = rng.random()
        if r < 0.45:
            parts.append(cap(utext) + rng.choice((".", "!", "!!", "", ". ")))
        elif r < 0.75:
            parts.append(cap(utext) + ".")
            parts.append(rng.choice(CONNECTORS[lang]) + " " + body)
        else:
            parts.append(body + ".")
            parts.append(rng.choice(CONNECTORS[lang]) + " " + utext)
    else:
        end = "" if body[-1:] in "?!." else rng.choice((".", "", "?", ".", "!"))
        parts.append(body + end)
    if history:
        parts.append(fill(rng.choice(HISTORIES[lang]), ctx))
    if extra is not None:
        parts.append(rng.choice(CONNECTORS[lang]) + " "
                     + _body(rng, lang, extra, ctx, has_appt=False, has_obs=False))
    if rng.random() < 0.7:
        parts.append(fill(rng.choice(CLOSERS[lang]), ctx))
    if rng.random() < 0.5:
        pool = SIGNOFFS_CG[lang] if caregiver else SIGNOFFS[lang]
        parts.append(fill(rng.choice(pool), ctx))
    sep = rng.choice((" ", " ", "\n", " ", "  "))
    text = sep.join(p for p in parts if p).strip()
    typoed = rng.random() < typo_rate
    if typoed:
        text = typo(rng, text)
    # Subject line.
    if urgent_kind and rng.random() < 0.5:
        subject = rng.choice(SUBJECTS_URGENT[lang])
    elif extra is not None and rng.random() < 0.6:
        subject = rng.choice(SUBJECTS_MULTI[lang])
    else:
        subject = fill(rng.choice(SUBJECTS[lang][category]), ctx)
    if rng.random() < 0.15:
        subject = subject.lower()
    return FirstMessage(text=text, subject=subject, urgent_keyword=keyword, typo=typoed)


def later_patient_message(rng: random.Random, lang: str, ctx: dict, kind: str) -> str:
    """kind: nudge | nudge_urgent | followup | thanks."""
    table = {"nudge": NUDGES, "nudge_urgent": NUDGES_URGENT, "followup": FOLLOWUPS,
             "thanks": THANKS}[kind]
    text = fill(rng.choice(table[lang]), ctx)
    if rng.random() < 0.2:
        text = typo(rng, text)
    return text


def staff_message(rng: random.Random, lang: str, ctx: dict, category: Category, *, closing: bool,
                  urgent_kind: str | None = None) -> str:
    if urgent_kind == "suicidal" and closing:
        return fill(rng.choice(STAFF_SUICIDAL[lang]), ctx)
    if urgent_kind and closing:
        return fill(rng.choice(STAFF_URGENT[lang]), ctx)
    table = STAFF_CLOSE if closing else STAFF_ASK
    return fill(rng.choice(table[lang][category]), ctx)


def all_templates(lang: str | None = None) -> list[str]:
    """Every template string, or those of one language (tests: all must format with a full
    context of that language)."""
    out: list[str] = []

    def walk(x: object) -> None:
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, tuple):
            for v in x:
                walk(v)

    for table in (OPENERS, CAREGIVER_INTROS, BODIES, CONNECTORS, URGENT, NEGATIONS, HISTORIES,
                  CLOSERS, SIGNOFFS, SIGNOFFS_CG, SUBJECTS, SUBJECTS_URGENT, SUBJECTS_MULTI,
                  NUDGES, NUDGES_URGENT, FOLLOWUPS, THANKS, STAFF_CLOSE, STAFF_ASK, STAFF_URGENT,
                  STAFF_SUICIDAL):
        walk(table if lang is None else table[lang])
    return out
