"""Demo catalogue: seller companies on their storefronts, a few hundred products in three
languages with photos drawn locally by Pillow (no internet). Idempotent: a product whose SKU its
company already has is left alone.

The vocabulary (:data:`GOODS`) is also what ``bench/catalogue`` draws its 100,000 products from.
"""

from __future__ import annotations

import io
import random
from datetime import timedelta
from decimal import Decimal
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from core.access import SYSTEM_ACTOR
from core.models import Company, CompanyMember
from core.money import Money
from core.states import record_creation
from core.taxids import cn_make, kz_make

from . import services
from .models import Product, SellerCompany, Storefront, StorefrontMembership

# Per origin: (category, HS code, base price in CNY, net weight g, (en, ru, zh), description (en, ru, zh), variants)
# Each variant is (en, ru, zh, price factor, weight factor).
SIZES = [("250 g", "250 г", "250克", Decimal("0.6"), 0.5), ("500 g", "500 г", "500克", Decimal("1"), 1),
         ("1 kg", "1 кг", "1公斤", Decimal("1.8"), 2)]
COLOURS = [("black", "чёрный", "黑色", Decimal("1"), 1), ("white", "белый", "白色", Decimal("1"), 1),
           ("blue", "синий", "蓝色", Decimal("1.05"), 1)]
CLOTHES = [("size S", "размер S", "S码", Decimal("1"), 1), ("size M", "размер M", "M码", Decimal("1"), 1),
           ("size L", "размер L", "L码", Decimal("1"), 1), ("size XL", "размер XL", "XL码", Decimal("1.05"), 1)]
ONE = [("", "", "", Decimal("1"), 1)]

GOODS: dict[str, list] = {
    "KZ": [
        ("honey", "040900", 68, 500, ("Buckwheat honey", "Гречишный мёд", "荞麦蜂蜜"),
         ("Dark buckwheat honey from the East Kazakhstan steppe, raw and unfiltered.",
          "Тёмный гречишный мёд из степей Восточного Казахстана, сырой и нефильтрованный.",
          "来自东哈萨克斯坦草原的深色荞麦蜂蜜，未经加热过滤。"), SIZES),
        ("honey", "040900", 78, 500, ("Mountain wildflower honey", "Горный разнотравный мёд", "高山百花蜂蜜"),
         ("Collected in the Zailiysky Alatau foothills at 1,500 metres.",
          "Собран в предгорьях Заилийского Алатау на высоте 1500 метров.",
          "采自海拔1500米的外伊犁阿拉套山麓。"), SIZES),
        ("honey", "040900", 72, 500, ("Sainfoin honey", "Эспарцетовый мёд", "红豆草蜂蜜"),
         ("Light, delicate honey that crystallises slowly into a white cream.",
          "Светлый нежный мёд, медленно кристаллизуется в белый крем.",
          "色浅味柔，缓慢结晶成白色奶油状。"), SIZES),
        ("honey", "040900", 95, 500, ("Altai linden honey", "Алтайский липовый мёд", "阿尔泰椴树蜂蜜"),
         ("Fragrant linden honey from the Kazakh Altai taiga.",
          "Ароматный липовый мёд из тайги Казахстанского Алтая.",
          "来自哈萨克斯坦阿尔泰针叶林的芬芳椴树蜜。"), SIZES),
        ("dried-fruit-nuts", "081310", 45, 500, ("Dried apricots", "Курага", "杏干"),
         ("Sun-dried apricots from Turkestan orchards, no sulphur.",
          "Курага из садов Туркестана, высушена на солнце, без серы.",
          "突厥斯坦果园日晒杏干，不含硫磺。"), SIZES),
        ("dried-fruit-nuts", "080620", 32, 500, ("Golden raisins", "Золотистый изюм", "金葡萄干"),
         ("Sweet seedless raisins, washed and sorted by hand.",
          "Сладкий изюм без косточек, вымыт и отобран вручную.",
          "无籽甜葡萄干，手工清洗挑选。"), SIZES),
        ("dried-fruit-nuts", "080232", 88, 500, ("Shelled walnuts", "Очищенный грецкий орех", "去壳核桃仁"),
         ("Light walnut halves from the south of Kazakhstan.",
          "Светлые половинки грецкого ореха с юга Казахстана.",
          "来自哈萨克斯坦南部的浅色核桃仁。"), SIZES),
        ("dried-fruit-nuts", "081330", 28, 250, ("Dried Aport apples", "Сушёные яблоки Апорт", "阿波尔特苹果干"),
         ("Slices of the famous Almaty Aport apple, dried without sugar.",
          "Дольки знаменитого алматинского апорта, высушены без сахара.",
          "阿拉木图著名阿波尔特苹果切片，无糖烘干。"), SIZES),
        ("grain-flour", "110100", 18, 2000, ("Premium wheat flour", "Мука пшеничная высшего сорта", "特级小麦面粉"),
         ("Flour of hard spring wheat from Kostanay.", "Мука из твёрдой яровой пшеницы из Костаная.",
          "科斯塔奈硬质春小麦面粉。"), ONE),
        ("oils", "151219", 25, 1000, ("Cold-pressed sunflower oil", "Подсолнечное масло холодного отжима", "冷榨葵花籽油"),
         ("Unrefined oil with the taste of roasted seeds.", "Нерафинированное масло со вкусом жареных семечек.",
          "未精炼，带有烤葵花籽香味。"), ONE),
        ("sweets", "180690", 36, 300, ("Rakhat dark chocolate", "Шоколад Рахат горький", "拉哈特黑巧克力"),
         ("The classic Almaty chocolate, 70 % cocoa.", "Классический алматинский шоколад, 70 % какао.",
          "经典阿拉木图巧克力，可可含量70%。"), ONE),
        ("wool-felt", "560221", 160, 400, ("Felt slippers", "Войлочные тапочки", "羊毛毡拖鞋"),
         ("Hand-felted from Kazakh sheep wool.", "Свалены вручную из шерсти казахских овец.",
          "用哈萨克羊毛手工擀制。"), CLOTHES),
    ],
    "UZ": [
        ("cotton", "520812", 58, 300, ("Cotton poplin fabric", "Хлопковый поплин", "纯棉府绸面料"),
         ("Fergana cotton poplin, 1 metre by 1.5 metres.", "Ферганский хлопковый поплин, 1 × 1,5 метра.",
          "费尔干纳棉府绸，1米×1.5米。"), COLOURS),
        ("cotton", "520812", 120, 500, ("Hand-woven ikat silk-cotton", "Ручной икат (адрас)", "手工织扎染丝棉布"),
         ("Adras ikat woven in Margilan workshops.", "Адрас, сотканный в мастерских Маргилана.",
          "马尔吉兰作坊手织阿德拉斯扎染布。"), ONE),
        ("tops", "610910", 45, 180, ("Organic cotton T-shirt", "Футболка из органического хлопка", "有机棉T恤"),
         ("Soft T-shirt of Uzbek long-staple cotton.", "Мягкая футболка из узбекского длинноволокнистого хлопка.",
          "乌兹别克长绒棉柔软T恤。"), CLOTHES),
        ("tops", "611030", 130, 400, ("Knitted cotton jumper", "Трикотажный джемпер", "针织棉毛衣"),
         ("A warm jumper knitted in Tashkent.", "Тёплый джемпер, связанный в Ташкенте.",
          "塔什干针织保暖毛衣。"), CLOTHES),
        ("carpets", "570110", 1800, 9000, ("Silk-wool Samarkand carpet", "Самаркандский шёлково-шерстяной ковёр", "撒马尔罕丝毛地毯"),
         ("Hand-knotted carpet, 150 × 200 cm, natural dyes.", "Ковёр ручной работы, 150 × 200 см, натуральные красители.",
          "手工打结地毯，150×200厘米，天然染料。"), ONE),
        ("dried-fruit-nuts", "080620", 30, 500, ("Black Bukhara raisins", "Чёрный бухарский изюм", "布哈拉黑葡萄干"),
         ("Dark raisins from Bukhara vineyards.", "Тёмный изюм с бухарских виноградников.",
          "布哈拉葡萄园黑葡萄干。"), SIZES),
        ("dried-fruit-nuts", "081320", 34, 500, ("Dried plums", "Чернослив", "西梅干"),
         ("Naturally dried Uzbek plums.", "Узбекский чернослив естественной сушки.", "自然风干乌兹别克李子。"), SIZES),
    ],
    "KG": [
        ("honey", "040900", 88, 500, ("White Kyrgyz honey", "Белый кыргызский мёд", "吉尔吉斯白蜂蜜"),
         ("Creamy esparcet honey from the Chui valley.", "Кремовый эспарцетовый мёд из Чуйской долины.",
          "楚河谷奶油状红豆草蜂蜜。"), SIZES),
        ("wool-felt", "560221", 260, 1200, ("Shyrdak felt rug", "Войлочный ковёр шырдак", "吉尔吉斯毡毯"),
         ("Traditional felt mosaic rug from Naryn.", "Традиционный мозаичный войлочный ковёр из Нарына.",
          "纳伦传统拼花毛毡地毯。"), ONE),
        ("dried-fruit-nuts", "080232", 80, 500, ("Arslanbob walnuts", "Орехи Арсланбоба", "阿斯兰博布核桃"),
         ("From the world's largest wild walnut forest.", "Из крупнейшего в мире дикого орехового леса.",
          "来自世界最大的野生核桃林。"), SIZES),
    ],
    "TJ": [
        ("dried-fruit-nuts", "081310", 40, 500, ("Isfara dried apricots", "Исфаринская курага", "伊斯法拉杏干"),
         ("Sweet apricots of the Isfara valley.", "Сладкая курага Исфаринской долины.", "伊斯法拉谷甜杏干。"), SIZES),
        ("honey", "040900", 90, 500, ("Pamir mountain honey", "Памирский горный мёд", "帕米尔高山蜂蜜"),
         ("Rare honey from the high Pamir valleys.", "Редкий мёд высокогорных долин Памира.",
          "帕米尔高山谷地稀有蜂蜜。"), SIZES),
        ("cotton", "520100", 22, 1000, ("Raw Tajik cotton", "Таджикский хлопок-сырец", "塔吉克原棉"),
         ("Carded raw cotton for quilts.", "Чесаный хлопок-сырец для одеял.", "用于被褥的梳理原棉。"), ONE),
    ],
    "TM": [
        ("carpets", "570110", 2200, 10000, ("Tekke carpet", "Текинский ковёр", "特克地毯"),
         ("Hand-knotted Turkmen carpet with the gul pattern.", "Туркменский ковёр ручной работы с узором гёль.",
          "手工打结土库曼地毯，传统花纹。"), ONE),
        ("cotton", "520512", 26, 1000, ("Turkmen cotton yarn", "Туркменская хлопковая пряжа", "土库曼棉纱"),
         ("Single cotton yarn, 1 kg cone.", "Однониточная хлопковая пряжа, бобина 1 кг.", "单股棉纱，1公斤筒。"), ONE),
    ],
    "CN": [
        ("phones", "851713", 1999, 190, ("Smartphone X1", "Смартфон X1", "X1智能手机"),
         ("6.5-inch screen, 50 MP camera, 5,000 mAh battery, dual SIM.",
          "Экран 6,5 дюйма, камера 50 Мп, аккумулятор 5000 мА·ч, две SIM-карты.",
          "6.5英寸屏幕，5000万像素相机，5000毫安时电池，双卡。"), COLOURS),
        ("phones", "851713", 999, 180, ("Smartphone Lite A5", "Смартфон Lite A5", "A5青春版手机"),
         ("Everyday phone with a long battery life.", "Телефон на каждый день с долгой работой от батареи.",
          "续航持久的日常手机。"), COLOURS),
        ("laptops", "847130", 4599, 1500, ("Laptop AirBook 14", "Ноутбук AirBook 14", "AirBook 14笔记本电脑"),
         ("14-inch, 16 GB RAM, 512 GB SSD, 1.3 kg.", "14 дюймов, 16 ГБ ОЗУ, SSD 512 ГБ, 1,3 кг.",
          "14英寸，16GB内存，512GB固态硬盘，1.3公斤。"), ONE),
        ("audio", "851830", 199, 60, ("Bluetooth earbuds", "Беспроводные наушники", "蓝牙耳机"),
         ("Noise cancelling, 30 hours with the case.", "Шумоподавление, 30 часов с кейсом.",
          "主动降噪，配合充电盒续航30小时。"), COLOURS),
        ("audio", "851822", 299, 600, ("Portable speaker", "Портативная колонка", "便携音箱"),
         ("Waterproof speaker, 20 W, 12 hours.", "Водонепроницаемая колонка, 20 Вт, 12 часов.",
          "防水音箱，20瓦，12小时续航。"), COLOURS),
        ("chargers", "850440", 129, 120, ("USB-C charger 65 W", "Зарядное устройство USB-C 65 Вт", "65W USB-C充电器"),
         ("GaN charger for phones and laptops.", "GaN-зарядка для телефонов и ноутбуков.", "氮化镓充电器，适用于手机和笔记本。"), ONE),
        ("chargers", "850760", 159, 380, ("Power bank 20,000 mAh", "Внешний аккумулятор 20 000 мА·ч", "20000毫安充电宝"),
         ("Two USB-C ports, fast charging.", "Два порта USB-C, быстрая зарядка.", "双USB-C接口，快充。"), COLOURS),
        ("tv-video", "852872", 2499, 9000, ("Smart TV 43 inch", "Смарт-телевизор 43 дюйма", "43英寸智能电视"),
         ("4K screen with Wi-Fi.", "Экран 4K с Wi-Fi.", "4K屏幕，支持Wi-Fi。"), ONE),
        ("appliances", "845011", 1899, 52000, ("Washing machine 7 kg", "Стиральная машина 7 кг", "7公斤洗衣机"),
         ("Front-loading, A+++ energy class.", "Фронтальная загрузка, класс энергопотребления A+++.",
          "前开门，A+++能效。"), ONE),
        ("appliances", "841510", 2599, 30000, ("Split air conditioner", "Сплит-кондиционер", "分体式空调"),
         ("Inverter, heating and cooling, 12,000 BTU.", "Инвертор, обогрев и охлаждение, 12 000 BTU.",
          "变频冷暖，12000BTU。"), ONE),
        ("kitchen", "732393", 89, 900, ("Stainless steel pot set", "Набор кастрюль из нержавеющей стали", "不锈钢锅具套装"),
         ("Three pots with glass lids.", "Три кастрюли со стеклянными крышками.", "三只锅配玻璃盖。"), ONE),
        ("toys", "950300", 69, 400, ("Building blocks set", "Конструктор", "积木套装"),
         ("520 pieces, ages 6 and up.", "520 деталей, от 6 лет.", "520块，适合6岁以上。"), ONE),
        ("tops", "610910", 49, 180, ("Cotton T-shirt", "Хлопковая футболка", "纯棉T恤"),
         ("Basic crew-neck T-shirt.", "Базовая футболка с круглым вырезом.", "基础圆领T恤。"), CLOTHES),
        ("trousers", "620342", 129, 500, ("Cotton chinos", "Хлопковые чиносы", "纯棉休闲裤"),
         ("Slim-fit chinos.", "Чиносы приталенного кроя.", "修身休闲裤。"), CLOTHES),
        ("shoes", "640299", 159, 700, ("Running shoes", "Беговые кроссовки", "跑步鞋"),
         ("Light mesh running shoes.", "Лёгкие сетчатые кроссовки.", "轻便网面跑鞋。"), CLOTHES),
        ("bags", "420222", 99, 500, ("City backpack", "Городской рюкзак", "城市双肩包"),
         ("Water-repellent backpack with a laptop sleeve.", "Водоотталкивающий рюкзак с отделением для ноутбука.",
          "防泼水双肩包，带电脑隔层。"), COLOURS),
        ("e-bikes", "871160", 3299, 23000, ("Folding e-bike", "Складной электровелосипед", "折叠电动自行车"),
         ("250 W motor, 60 km range.", "Мотор 250 Вт, запас хода 60 км.", "250瓦电机，续航60公里。"), ONE),
        ("solar", "854143", 699, 21000, ("Solar panel 400 W", "Солнечная панель 400 Вт", "400W太阳能板"),
         ("Monocrystalline module for homes and farms.", "Монокристаллический модуль для дома и фермы.",
          "单晶硅组件，适用于家庭和农场。"), ONE),
        ("beauty", "330499", 79, 100, ("Moisturising face cream", "Увлажняющий крем для лица", "保湿面霜"),
         ("With hyaluronic acid, 50 ml.", "С гиалуроновой кислотой, 50 мл.", "含透明质酸，50毫升。"), ONE),
    ],
}

# Local price of one CNY on the China-goods storefronts, rounded to what a shop would print.
CN_PRICE = {"cn-kz": (Decimal("71"), 10), "cn-uz": (Decimal("1800"), 1000)}

# owner username (or None), country, legal name, storefronts, languages written
COMPANIES = [
    ("seller_kz", "KZ", "Altyn Bal Honey & Dried Fruit LLP", ["kz"], "03210050"),
    ("seller_uz", "UZ", "Fergana Textile Group LLC", ["uz"], "304518772"),
    ("seller_cn", "CN", "Shenzhen Bright Electronics Co., Ltd.", ["cn-uz", "cn-kz"], "91440300MA5D8Q2W"),
    (None, "KZ", "Steppe Organic Foods LLP", ["kz"], "05140061"),
    (None, "KG", "Issyk-Kul Bee Farm LLC", ["kg"], "02108201410237"),
    (None, "TJ", "Sughd Orchards LLC", ["tj"], "520014433"),
    (None, "TM", "Ahal Carpet House", ["tm"], "10123456789"),
    (None, "CN", "Yiwu Home & Style Trading Co., Ltd.", ["cn-uz", "cn-kz"], "91330782MA2E4K7R"),
    (None, "KZ", "Almaty Nomad Crafts LLP", ["kz"], "07150042"),
    (None, "UZ", "Samarkand Silk Road Crafts LLC", ["uz"], "307724519"),
    (None, "KG", "Naryn Felt Cooperative", ["kg"], "01203199910045"),
    (None, "TJ", "Pamir Natural Products LLC", ["tj"], "530078812"),
    (None, "CN", "Guangzhou Urban Wear Co., Ltd.", ["cn-uz", "cn-kz"], "91440101MA59R3KX"),
    (None, "CN", "Shenzhen Sound Lab Technology Co., Ltd.", ["cn-uz", "cn-kz"], "91440300MA5G2N8P"),
]
# Which goods each demo company sells (by origin list and slice), so catalogues differ.
GOODS_OF = {
    "Altyn Bal Honey & Dried Fruit LLP": ("KZ", slice(0, 8)),
    "Steppe Organic Foods LLP": ("KZ", slice(8, 12)),
    "Fergana Textile Group LLC": ("UZ", slice(0, 7)),
    "Shenzhen Bright Electronics Co., Ltd.": ("CN", slice(0, 10)),
    "Yiwu Home & Style Trading Co., Ltd.": ("CN", slice(10, 19)),
    "Issyk-Kul Bee Farm LLC": ("KG", slice(0, 3)),
    "Sughd Orchards LLC": ("TJ", slice(0, 3)),
    "Ahal Carpet House": ("TM", slice(0, 2)),
    "Almaty Nomad Crafts LLP": ("KZ", slice(0, 12)),
    "Samarkand Silk Road Crafts LLC": ("UZ", slice(0, 7)),
    "Naryn Felt Cooperative": ("KG", slice(0, 3)),
    "Pamir Natural Products LLC": ("TJ", slice(0, 3)),
    "Guangzhou Urban Wear Co., Ltd.": ("CN", slice(12, 16)),
    "Shenzhen Sound Lab Technology Co., Ltd.": ("CN", slice(0, 10)),
}
PALETTE = {"honey": (233, 170, 50), "dried-fruit-nuts": (214, 120, 60), "grain-flour": (225, 205, 160),
           "oils": (240, 200, 70), "sweets": (110, 60, 40), "wool-felt": (160, 120, 90), "cotton": (190, 175, 140),
           "carpets": (150, 40, 50), "tops": (70, 110, 170), "trousers": (90, 100, 80), "shoes": (60, 60, 70),
           "bags": (120, 90, 60), "phones": (40, 50, 70), "laptops": (120, 125, 135), "audio": (30, 30, 35),
           "chargers": (90, 95, 120), "tv-video": (25, 25, 30), "appliances": (70, 130, 160),
           "kitchen": (150, 110, 80), "toys": (230, 80, 70), "e-bikes": (50, 130, 90), "solar": (30, 60, 120),
           "beauty": (240, 200, 210)}


def tax_id(country: str, seed: str) -> str:
    if country == "KZ":
        for tail in range(1000):
            value = kz_make(f"{seed}{tail:03d}"[:11])
            if value:
                return value
    if country == "CN":
        return cn_make(seed[:17].ljust(17, "0"))
    return seed


def variants(item) -> list[tuple]:
    return item[6]


def product_texts(item, variant) -> dict:
    (en, ru, zh), (den, dru, dzh) = item[4], item[5]
    ven, vru, vzh = variant[0], variant[1], variant[2]
    return {
        "en": {"title": f"{en}, {ven}" if ven else en, "description": den},
        "ru": {"title": f"{ru}, {vru}" if vru else ru, "description": dru},
        "zh": {"title": f"{zh} {vzh}" if vzh else zh, "description": dzh},
    }


def photo(category: str, label: str, rng: random.Random, size: int = 480) -> bytes:
    """A small product picture: the category's colour, a soft shape, the product's initials."""
    base = PALETTE.get(category, (180, 160, 140))
    image = Image.new("RGB", (size, size), tuple(min(255, c + 40) for c in base))
    draw = ImageDraw.Draw(image)
    for i in range(size // 8):
        shade = tuple(max(0, min(255, c + 40 - i)) for c in base)
        draw.rectangle([0, i * 8, size, i * 8 + 8], fill=shade)
    inset = rng.randint(70, 120)
    draw.ellipse([inset, inset, size - inset, size - inset], fill=base, outline=(255, 255, 255), width=6)
    initials = "".join(w[0] for w in label.split()[:2]).upper()
    draw.text((size // 2, size // 2), initials, fill=(255, 255, 255), anchor="mm", font_size=size // 5)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _company(owner, country, name, storefronts, seed) -> Company:
    company = Company.objects.filter(members__user=owner).first() if owner is not None else None
    if company is None:
        company = Company.objects.filter(name=name).first()
    valid = tax_id(country, seed)
    if company is None:
        company = Company.objects.create(name=name, country_id=country, tax_id=valid, needs_manual_check=country == "TM")
        record_creation(SellerCompany.of(company), actor=SYSTEM_ACTOR, payload={"demo": True})
    else:
        from core.taxids import is_valid

        if not is_valid(company.country_id, company.tax_id):
            Company.objects.filter(pk=company.pk).update(tax_id=valid)
            company.refresh_from_db()
    if company.verification == Company.Verification.REJECTED:
        services.company_verification_set(company=company, verification=Company.Verification.PENDING,
                                          actor=SYSTEM_ACTOR, reason="demo")
    if company.verification != Company.Verification.VERIFIED:
        services.company_verification_set(company=company, verification=Company.Verification.VERIFIED,
                                          actor=SYSTEM_ACTOR, reason="demo")
    if owner is not None:
        CompanyMember.objects.get_or_create(company=company, user=owner, defaults={"role": CompanyMember.Role.OWNER})
    for code in storefronts:
        membership = services.storefront_join_request(company=company, storefront=Storefront.objects.get(code=code),
                                                      actor=SYSTEM_ACTOR)
        if membership.status != StorefrontMembership.Status.APPROVED:
            services.storefront_membership_decide(membership=membership, to=StorefrontMembership.Status.APPROVED,
                                                  actor=SYSTEM_ACTOR, reason="demo")
    return company


def _prices(item, factor: Decimal, storefronts: list[str]) -> dict:
    base = Decimal(item[2]) * factor
    prices = {}
    for code in storefronts:
        if code in CN_PRICE:
            rate, step = CN_PRICE[code]
            local = max(Decimal(1), (base * rate / step).quantize(Decimal(1))) * step
            prices[code] = Money.of(local, "KZT" if code == "cn-kz" else "UZS")
        else:
            prices[code] = Money.of(base.quantize(Decimal("0.1")) - Decimal("0.1"), "CNY")
    return prices


def seed(out, users=None, **context) -> dict:
    users = users or {}
    rng = random.Random(7)
    made = 0
    from django.conf import settings

    # The demo sellers' companies are seeded last, so that their products are the newest: the first
    # a demo buyer sees, and the orders they place land on the demo sellers' desks.
    for owner_name, country, name, storefronts, seed_id in sorted(COMPANIES, key=lambda c: c[0] is not None):
        company = _company(users.get(owner_name) if owner_name else None, country, name, storefronts, seed_id)
        origin, part = GOODS_OF[name]
        existing = set(Product.objects.filter(company=company).values_list("sku_code", flat=True))
        for n, item in enumerate(GOODS[origin][part]):
            for v, variant in enumerate(variants(item)):
                sku = f"{company.pk:03d}-{n:02d}{v:02d}"
                if sku in existing:
                    continue
                product = services.product_create(
                    company=company, actor=SYSTEM_ACTOR, sku_code=sku, category=item[0], hs_code=item[1],
                    origin_country=origin, net_weight_g=max(1, int(item[3] * variant[4])),
                    gross_weight_g=int(item[3] * variant[4] * 1.1) + 20, translations=product_texts(item, variant),
                    prices=_prices(item, variant[3], storefronts), status=Product.Status.ACTIVE,
                )
                if rng.random() < 0.15:
                    product.listings.update(featured=True)
                label = item[4][0]
                image = services.product_image_add(
                    product=product, actor=SYSTEM_ACTOR, alt=label,
                    upload=SimpleUploadedFile("demo.jpg", photo(item[0], label, rng), content_type="image/jpeg"))
                # The demo must look finished before a worker has run: make the thumbnails now.
                services.image_thumbnails_make(image_id=image.pk)
                _demo_stock(product, storefronts, rng, always=owner_name is not None)
                made += 1
    total = Product.objects.filter(status=Product.Status.ACTIVE).count()
    out.write(f"  marketplace: {made} products added, {total} on sale; photos in {settings.MEDIA_ROOT}\n")
    return {}


OPENING_STOCK_AT = timezone.now() - timedelta(days=31)


def _demo_stock(product, storefronts, rng, always: bool = False) -> None:
    """Most demo products have a few units in a warehouse of their storefront; some await stock
    (never those of the demo sellers, whose products the demo buyers try first)."""
    if rng.random() < 0.2 and not always:
        return
    from warehouses.services import stock_receive

    if product.sku.levels.exists():
        return
    for code in storefronts:
        # The first warehouse serving each storefront (LHW for the pavilions, TAS/ALA for China goods).
        warehouses = list(Storefront.objects.get(code=code).warehouses.order_by("priority", "code"))
        if not warehouses:
            continue
        warehouse, bond_status = warehouses[0], "bonded"
        at_home = [w for w in warehouses if w.country_id == product.origin_country_id and w.kind == "dry_port"]
        if at_home and rng.random() < 0.3:
            # Some Kazakh goods wait at home, at the Khorgos dry port, in free circulation: they reach
            # a buyer in China across the border, cleared at the Khorgos–Altynkol crossing.
            warehouse, bond_status = at_home[0], "released"
        # Opening stock arrived a month ago: the console's 30-day chart shows the demo's daily
        # traffic rather than one spike today, and bonded stock has an age.
        with mock.patch("warehouses.services.ledger.timezone.now", return_value=OPENING_STOCK_AT):
            stock_receive(warehouse=warehouse.code, sku_id=product.sku_id, quantity=rng.randint(3, 120),
                          bond_status=bond_status, reference=f"DEMO-MP-{product.pk}-{code}", actor=SYSTEM_ACTOR)
