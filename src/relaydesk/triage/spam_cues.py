"""Spam a care inbox should not spend an agent on, read from what spam says (pure).

The e5 few-shot reading of the built-in `spam` intent catches spam that *sounds* like its examples
and missed two thirds of the YouTube comment spam (recall 0.34: link dumps and "check out my
channel"). Spam, though, announces itself: it promotes the writer (my channel, my page), baits
for follows and likes, promises money, announces a prize or asks to verify an account, or
advertises something the brand does not sell — usually with a link. Each of those is a *kind* of
cue, in the five languages; a message is spam when it shows two cues, or one and a link, or baits
for followers and likes ("free followers", "f4f": nothing else in a care inbox says that — "follow
me back so I can DM you" alone is a customer), or is nothing but a link. A link alone is not spam
(customers link their photos and the brand's own pages), nor is one cue without a link ("how do I
unsubscribe", "did I win your giveaway?").

Phrases are matched on word boundaries (Thai, written without spaces, as substrings) in the
lower-cased text after links are taken out, so a URL's letters never count as words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|ly|me|io|co|ir|info|xyz|link|site|shop)(?:/\S*)?\b",
    re.IGNORECASE,
)
MENTION = re.compile(r"@\w+")
HANDLE_LINK = re.compile(r"\b(?:t\.me|wa\.me|bit\.ly|tinyurl\.com|goo\.gl)/\S+", re.IGNORECASE)

CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "self_promo": {
        "en": (
            "my channel",
            "my videos",
            "my new video",
            "my music",
            "my cover",
            "my page",
            "my shop",
            "my store",
            "check out my",
            "check my",
            "visit my",
            "subscribe to my",
            "subscribe to me",
            "sub to my",
            "dm me for",
            "link in bio",
            "link in my bio",
            "watch my",
            "grow your page",
            "dm me for a collab",
            "collab",
            "social media manager",
            "my portfolio",
        ),
        "fa": (
            "کانال من",
            "پیج من",
            "پیجم",
            "کانالم",
            "به پیج ما سر بزنید",
            "لینک در بیو",
            "ویدیوهای من",
            "دایرکت بدید",
            "سابسکرایب",
            "عضو کانال",
            "کانال ما",
            "تو پیجم",
            "نمونه کارها",
            "طراحی لوگو",
            "پیجمون",
        ),
        "ar": (
            "قناتي",
            "صفحتي",
            "حسابي",
            "زوروا",
            "اشتركوا في",
            "اشترك في قناتي",
            "الرابط في البايو",
            "تابعوا قناتي",
            "راسلني خاص",
            "قناتنا",
            "دوس على اللينك",
            "اللينك",
            "صفحتنا",
            "أعمالي",
        ),
        "he": (
            "הערוץ שלי",
            "העמוד שלי",
            "הדף שלי",
            "תירשמו לערוץ",
            "היכנסו לעמוד",
            "קישור בביו",
            "שלחו הודעה פרטית",
            "הסרטונים שלי",
            "לעמוד שלי",
            "לערוץ שלי",
            "לערוץ היוטיוב",
            "תירשמו לערוץ",
            "תיק עבודות",
            "בעמוד שלי",
        ),
        "th": (
            "ฝากร้าน",
            "ฝากเพจ",
            "ฝากช่อง",
            "ช่องของเรา",
            "เพจของเรา",
            "ลิงก์อยู่ในไบโอ",
            "ทักแชท",
            "ทักไลน์",
            "แอดไลน์",
            "ติดตามช่อง",
            "ดูเพจเรา",
            "คลิกลิงก์",
            "ดูคลิปเต็ม",
            "รับออกแบบ",
            "ดูผลงาน",
            "แอดไลน์",
        ),
    },
    "bait": {
        "en": (
            "follow for follow",
            "f4f",
            "l4l",
            "like for like",
            "sub4sub",
            "subscribe back",
            "free followers",
            "free likes",
            "cheap followers",
            "like this comment",
            "like this pic",
            "thumbs up if",
            "followers and likes",
        ),
        "fa": ("فالو بک", "فالوور رایگان", "فالو متقابل", "خرید فالوور", "فالوور ارزان", "لایک و فالو"),
        "ar": (
            "متابعة بمتابعة",
            "متابعين مجانا",
            "متابعين مجاناً",
            "لايك بلايك",
            "زيادة متابعين",
            "شراء متابعين",
        ),
        "he": ("עוקבים בחינם", "לייק בלייק", "קניית עוקבים", "עוקבים זולים"),
        "th": ("ฟอลโลเวอร์ฟรี", "ขายไลค์", "ขายฟอล", "ปั๊มไลค์", "ปั๊มฟอล", "แลกฟอล", "เพิ่มผู้ติดตาม"),
    },
    # a customer asks a brand to follow back so they can write privately: alone, not spam
    "follow": {
        "en": ("follow me", "follow back", "follow my"),
        "fa": ("فالو کنید", "فالوم کنید", "لایک کنید"),
        "ar": ("تابعوني", "تابعني", "لايكات"),
        "he": ("עקבו אחרי", "עוקב בחזרה", "תעקבו אחריי", "מחזיר עוקב", "עוקבת בחזרה"),
        "th": ("ฟอลกลับ", "ฟอลด้วย"),
    },
    "money": {
        "en": (
            "bitcoin",
            "crypto",
            "forex",
            "make money",
            "earn money",
            "earn $",
            "per day from home",
            "work from home",
            "double your money",
            "passive income",
            "investment opportunity",
            "trading signals",
            "binary options",
            "guaranteed profit",
            "investment plan",
            "profit in",
            "100% legit",
            "contact her on whatsapp",
            "contact him on whatsapp",
        ),
        "fa": (
            "بیت کوین",
            "بیت‌کوین",
            "ارز دیجیتال",
            "کسب درآمد",
            "درآمد دلاری",
            "درآمد میلیونی",
            "درآمد از خانه",
            "درآمد از خونه",
            "سرمایه گذاری",
            "سرمایه‌گذاری",
            "سیگنال",
            "فارکس",
            "سود کردم",
            "قابل اعتماده",
            "سود تضمینی",
        ),
        "ar": (
            "بيتكوين",
            "عملات رقمية",
            "عملات رقميه",
            "ربح المال",
            "دخل يومي",
            "اربح",
            "فوركس",
            "استثمار مضمون",
            "توصيات تداول",
            "ضاعف أموالك",
            "العمل من المنزل",
            "ربحت معها",
            "أرباح",
            "مضمون 100",
            "تواصل معها واتساب",
        ),
        "he": (
            "ביטקוין",
            "קריפטו",
            "כסף קל",
            "להרוויח",
            "פורקס",
            "השקעה בטוחה",
            "הכנסה פסיבית",
            "עבודה מהבית",
            "תשואה מובטחת",
            "הרווחתי",
            "אמינה לגמרי",
            "אמין לגמרי",
            "תפנו אליה",
            "בוואטסאפ",
        ),
        "th": (
            "บิทคอยน์",
            "คริปโต",
            "รายได้เสริม",
            "ทำงานที่บ้าน",
            "ไม่ต้องลงทุน",
            "รายได้วันละ",
            "เทรดฟอเร็กซ์",
            "ลงทุนน้อย",
            "กำไรแน่นอน",
            "ทำเงิน",
            "สัญญาณเทรด",
            "บิตคอยน์",
            "ได้กำไร",
            "เชื่อถือได้จริง",
            "กลุ่ม vip",
        ),
    },
    "prize": {
        "en": (
            "you won",
            "you have won",
            "you've won",
            "claim your",
            "free iphone",
            "click here",
            "click the link",
            "verify your account",
            "account will be suspended",
            "congratulations you",
            "limited offer",
            "act now",
            "gift cards to",
            "lucky followers",
            "fill in the form",
            "to claim",
        ),
        "fa": (
            "برنده شدید",
            "برنده شدی",
            "جایزه خود را دریافت",
            "کلیک کنید",
            "حساب خود را تایید",
            "آیفون رایگان",
            "فرصت محدود",
            "فرم رو پر کنید",
            "کارت هدیه رایگان",
        ),
        "ar": (
            "ربحت",
            "فزت",
            "مبروك لقد",
            "اضغط هنا",
            "اضغط على الرابط",
            "استلم جائزتك",
            "تأكيد حسابك",
            "آيفون مجاني",
            "عرض محدود",
            "كروت هدايا",
            "عبي الفورم",
            "املأ النموذج",
        ),
        "he": (
            "זכית",
            "לחצו כאן",
            "לחץ על הקישור",
            "לחצו על הקישור",
            "אמת את החשבון",
            "אייפון בחינם",
            "מבצע מוגבל",
            "נבחרת לזכות",
            "לחץ כאן",
            "פרטי אשראי",
            "מלאו את הטופס",
        ),
        "th": (
            "คุณได้รับรางวัล",
            "คลิกที่นี่",
            "กดลิงก์",
            "ยืนยันบัญชี",
            "ไอโฟนฟรี",
            "รับรางวัล",
            "แจกฟรี",
            "แจกบัตรของขวัญ",
            "กรอกฟอร์ม",
        ),
    },
    "advert": {
        "en": (
            "promo code",
            "casino",
            "betting",
            "weight loss",
            "diet pills",
            "cheap visa",
            "loan approved",
            "fast loans",
            "adult",
            "escort",
            "replica watches",
            "quick loan",
            "no credit check",
            "approved in",
            "call now",
            "cheap visas",
            "approval rate",
            "contact our agent",
        ),
        "fa": (
            "وام فوری",
            "کازینو",
            "شرط بندی",
            "شرط‌بندی",
            "لاغری",
            "قرص لاغری",
            "ویزای ارزان",
            "پیش بینی فوتبال",
            "ویزای",
            "جواب تضمینی",
            "مشاوره رایگان",
            "وام بدون ضامن",
        ),
        "ar": (
            "قرض سريع",
            "كازينو",
            "مراهنات",
            "رهان",
            "تخسيس",
            "حبوب التخسيس",
            "فيزا رخيصة",
            "تمويل فوري",
            "تأشيرات",
            "بأقل الأسعار",
            "قبول مضمونة",
            "استشارة مجانية",
            "قرض بدون",
        ),
        "he": (
            "הלוואה מהירה",
            "קזינו",
            "הימורים",
            "הרזיה",
            "כדורי הרזיה",
            "ויזה זולה",
            "הלוואה מיידית",
            "בלי ערבים",
            "אישור מובטח",
            "ייעוץ חינם",
            "ויזה לקנדה",
        ),
        "th": (
            "เว็บพนัน",
            "บาคาร่า",
            "สล็อต",
            "คาสิโน",
            "ยาลดน้ำหนัก",
            "เงินกู้ด่วน",
            "กู้เงินด่วน",
            "รับทำวีซ่า",
            "ผ่านชัวร์",
            "ปรึกษาฟรี",
            "กู้ด่วน",
        ),
    },
}


@dataclass(frozen=True)
class SpamReading:
    kinds: tuple[str, ...]  # the kinds of cue found, e.g. ("self_promo", "link")
    spam: bool


# one-letter words Hebrew and Arabic write joined to the next ("to my page" is one word in Hebrew)
PREFIXES = {"he": "[והבלמשכ]?", "ar": "[وبلفك]?"}


def _found(text: str, phrase: str, lang: str) -> bool:
    if lang == "th":
        return phrase in text
    pattern = r"(?<!\w)" + PREFIXES.get(lang, "") + re.escape(phrase) + r"(?!\w)"
    return re.search(pattern, text) is not None


def read(text: str, lang: str | None) -> SpamReading:
    """The spam cues of one message (every language's lists are tried: spam mixes languages)."""
    lowered = text.lower()
    # X wraps every link and attached photo in t.co: a customer's "please help" + photo is one
    links = [link for link in URL.findall(lowered) + HANDLE_LINK.findall(lowered) if "t.co/" not in link]
    words = MENTION.sub(" ", URL.sub(" ", HANDLE_LINK.sub(" ", lowered)))
    hits = {
        (kind, phrase)
        for kind, by_lang in CUES.items()
        for code, phrases in by_lang.items()
        for phrase in phrases
        if _found(words, phrase, code)
    }
    kinds = sorted({kind for kind, _ in hits}, key=list(CUES).index)
    bare_link = bool(links) and not re.findall(r"\w+", words)
    spam = len(hits) >= 2 or (bool(hits) and bool(links)) or "bait" in kinds or bare_link
    return SpamReading(tuple(kinds) + (("link",) if links else ()), spam)
