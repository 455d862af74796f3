"""Round 2 of the urgent-recall work (issue 5): hand-written dev cases, one block per failure
class found when holdout5/6 were burned (indirect chest-pain descriptions with arm/jaw and
sweating, fainting told as "came to on the floor", sudden one-eye vision loss, a transient
speech or hand episode, indirect overdose or suicide talk, pregnancy or postpartum bleeding,
bleeding that will not stop and head knocks on blood thinners, dark or coffee-ground vomit,
insulin users vomiting or a meter reading HI, double doses of high-risk drugs, caregivers'
observations of fever with confusion) plus a few emergencies outside the README's list.

Each class has new phrasings (not the holdout's), in English and Spanish (with and without
accents, with typos), and ``NOT_URGENT_6`` look-alikes: past, denied, hypothetical, twice a day
as prescribed, a test name, "cutting back", "confused about". Dev data: written and used while tuning. Synthetic only.
"""

from __future__ import annotations

URGENT_6: list[str] = [
    # chest pain told without the word
    "feels like a tight band around my ribs and my jaw aches, I'm sweaty and clammy",
    "my shirt feels way too tight across the front and my left arm is heavy, kind of nauseous",
    "cold sweat for the last half hour and my left shoulder aches down the arm",
    "mi esposo anda con sudor frio y le duele el brazo izquierdo desde hace rato",
    "siento como una banda que me aprieta y me duele la mandibula, tengo nauseas",
    # fainting told as the aftermath
    "I came to on the bathroom floor and don't remember falling",
    "my mom stood up and everything went black for her, we found her on the kitchen floor",
    "desperte en el piso del bano y no se cuanto tiempo estuve ahi",
    "al pararme todo se puso negro y me desperté en el suelo",
    # sudden vision loss
    "half of my vision in the right eye is just gone since I woke up",
    "it was like a curtain came down over my left eye this afternoon",
    "I suddenly lost the sight in one eye about an hour ago",
    "se me oscurecio el ojo derecho de repente, como una sombra",
    "perdi la vista del ojo izquierdo esta manana",
    # transient speech / hand episode
    "for a few minutes this morning I couldn't find the words out loud, the wrong words kept coming",
    "my words came out all scrambled at dinner and then it passed",
    "my right hand went dead and clumsy for ten minutes, it's back now",
    "a mi papa no le salian las palabras hace una hora, ya se le paso",
    "se me trabo la lengua y la mano derecha se me puso torpe un rato",
    # indirect overdose / suicide talk
    "I keep thinking about swallowing all of them at once, please only send a week",
    "honestly I'm not planning on being here much longer so the refill doesn't matter",
    "I don't trust myself with my pills right now",
    "estoy pensando en tomarme todas las pastillas de una vez",
    "no confio en mi misma con tantas pastillas en la casa",
    "para el lunes ya no voy a estar, gracias doctora",
    # pregnancy / postpartum bleeding
    "I'm 14 weeks pregnant and started bleeding bright red this morning",
    "passing clots since last night, I'm pregnant with twins",
    "had my baby 9 days ago and now I'm soaking a pad an hour",
    "estoy embarazada de 20 semanas y estoy sangrando",
    "tuve a mi bebe hace una semana y estoy sangrando mucho con coagulos",
    # bleeding that won't stop / anticoagulant + head knock
    "I cut my hand on a knife and I can't get it to stop, it's been 20 minutes",
    "nosebleed for over an hour now and I'm on blood thinners",
    "my dad is on warfarin and he fell and hit his head on the counter",
    "bumped my head hard on the car door, I take Eliquis",
    "me corte el dedo y no para de sangrar",
    "mi mama toma warfarina y se cayo y se pego en la cabeza",
    # dark / coffee-ground / bloody vomit
    "threw up something that looked like coffee grounds twice today",
    "I've been vomiting dark stuff since this morning",
    "vomite algo negro y me siento muy debil",
    "devolvi con sangre esta manana",
    # insulin user vomiting, meter HI
    "I'm type 1 on insulin and I can't keep anything down since last night",
    "my Dexcom keeps showing HIGH and I'm throwing up",
    "uso insulina y llevo todo el dia vomitando",
    "el glucometro marca HI y tengo mucha sed",
    # double dose of a high-risk drug
    "I accidentally took my warfarin twice tonight",
    "gave my son his insulin dose twice by mistake",
    "me puse la insulina dos veces por error",
    "tomé el metotrexato diario en vez de una vez a la semana",
    # fever with confusion, caregivers; other emergencies
    "grandma has a fever of 101 and she's barely waking up",
    "my husband has a temp and is talking nonsense, doesn't know where he is",
    "mi abuela tiene fiebre y esta desorientada, no me reconoce",
    "his lips look blue and he's breathing weird",
    "I can't lie flat anymore without choking for air and my ankles are huge",
    "my toddler pulled a pot of boiling water on his arm",
    "a mi hijo le cayo agua hirviendo en el pecho",
    "los labios se le ven morados",
    # sudden one-sided weakness told as a task ("can't lift the cup")
    "dad suddenly can't lift his coffee cup with his right hand",
    "out of nowhere she couldn't grip her fork",
    "de repente no puede levantar el brazo derecho",
    # self-harm by cutting
    "I've been cutting again and this time it's deep",
    "me estoy cortando otra vez y no puedo parar",
    # a cold, pale limb
    "my leg is cold and white and I can't feel my foot",
    "tiene el pie frio y morado desde hace una hora",
    # throat or tongue swelling in Spanish word order
    "se me hincho la garganta despues de la pastilla nueva",
    # confusion in caregivers' words with a fever; head knock then vomiting or sleepiness
    "grandpa keeps calling me by my dead grandma's name and he's burning up",
    "my 80 year old mom is seeing things that aren't there and has a fever, this is new",
    "my son hit his head at soccer and has thrown up three times and is really sleepy",
    "mi abuelo tiene calentura y ve cosas que no estan",
    # an infant with no wet diapers; skin peeling on a new drug
    "baby has had no wet diaper since yesterday and won't drink",
    "mi bebe no ha mojado el panal desde anoche",
    "my skin is peeling off in sheets and I have blisters in my mouth since the new seizure med",
    # goodbye letters in Spanish
    "ya les escribi cartas a mis hijos, ya no aguanto mas",
]

NOT_URGENT_6: list[str] = [
    "I take insulin twice a day, can I get a refill of the pens?",
    "my Lantus refill please, doing fine, no vomiting or anything",
    "I was on warfarin years ago and had a fall back then, now on nothing",
    "can you check if my Eliquis dose is right, no bleeding at all",
    "had a nosebleed last week that stopped quickly, refill my Xarelto please",
    "need a note for work, I had my baby in March and I'm back next week",
    "can I take Tylenol while pregnant for a mild headache?",
    "results of my pregnancy blood test please",
    "I had a stroke in 2019 and my speech came back fully, refill my statin",
    "my eye doctor appointment is next Tuesday, can I move it?",
    "I have a cut from gardening that stopped bleeding, do I need a tetanus shot?",
    "methotrexate refill please, I take it once a week on Sundays",
    "tomo la insulina dos veces al dia, necesito mas",
    "estoy embarazada y quiero una cita para mi control",
    "hace dos anos tuve sangrado en el embarazo, ahora todo bien",
    "tuve un derrame hace anos, ya hablo bien, necesito receta",
    "I threw up once after a bad burrito, feeling fine now",
    "mi mama toma warfarina, necesita cita para su INR",
    "Can you send my labs? I'm curious about my potassium.",
    "thank you for everything, Dr. Lee, see you next month",
    "I'm cutting back on sugar like you said",
    "can I keep cutting my pills in half?",
    "I can't lift heavy boxes since my back surgery, need a work note",
    "no fever and not confused, just a cold",
    "sin fiebre, no esta confundido, solo tos",
    "my son bumped his head yesterday, he's fine, no vomiting, playing normally",
    "I had a temp of 99 and was a bit confused about which pill to take",
    "my toddler has a fever and is cranky but drinking and playing",
]
