"""The storefronts: a national pavilion per Central Asian country (its companies' goods, sold in China
in yuan) and the China-goods storefronts stocked in bonded warehouses abroad (sold in tenge or sum)."""

from .models import Storefront

# code, kind, seller country, currency, default language, markets, warehouses, names, flag
STOREFRONTS = [
    ("kz", "pavilion", "KZ", "CNY", "zh-hans", ["CN"], ["LHW", "KHG"],
     ("Kazakhstan pavilion", "Павильон Казахстана", "哈萨克斯坦国家馆", "Қазақстан павильоны", "Qozogʻiston pavilyoni"), "🇰🇿"),
    ("kg", "pavilion", "KG", "CNY", "zh-hans", ["CN"], ["LHW"],
     ("Kyrgyzstan pavilion", "Павильон Кыргызстана", "吉尔吉斯斯坦国家馆", "Қырғызстан павильоны", "Qirgʻiziston pavilyoni"), "🇰🇬"),
    ("uz", "pavilion", "UZ", "CNY", "zh-hans", ["CN"], ["LHW"],
     ("Uzbekistan pavilion", "Павильон Узбекистана", "乌兹别克斯坦国家馆", "Өзбекстан павильоны", "Oʻzbekiston pavilyoni"), "🇺🇿"),
    ("tj", "pavilion", "TJ", "CNY", "zh-hans", ["CN"], ["LHW"],
     ("Tajikistan pavilion", "Павильон Таджикистана", "塔吉克斯坦国家馆", "Тәжікстан павильоны", "Tojikiston pavilyoni"), "🇹🇯"),
    ("tm", "pavilion", "TM", "CNY", "zh-hans", ["CN"], ["LHW"],
     ("Turkmenistan pavilion", "Павильон Туркменистана", "土库曼斯坦国家馆", "Түрікменстан павильоны", "Turkmaniston pavilyoni"), "🇹🇲"),
    ("cn-uz", "china_goods", "CN", "UZS", "uz", ["UZ"], ["TAS"],
     ("China goods in Uzbekistan", "Китайские товары в Узбекистане", "中国商品·乌兹别克斯坦", "Өзбекстандағы қытай тауарлары", "Oʻzbekistondagi Xitoy tovarlari"), "🇨🇳"),
    ("cn-kz", "china_goods", "CN", "KZT", "ru", ["KZ"], ["ALA"],
     ("China goods in Kazakhstan", "Китайские товары в Казахстане", "中国商品·哈萨克斯坦", "Қазақстандағы қытай тауарлары", "Qozogʻistondagi Xitoy tovarlari"), "🇨🇳"),
]


def load() -> dict[str, int]:
    for position, (code, kind, country, currency, language, markets, warehouses, names, flag) in enumerate(STOREFRONTS):
        storefront, _ = Storefront.objects.update_or_create(
            code=code,
            defaults={
                "kind": kind, "seller_country_id": country, "currency_id": currency, "default_language": language,
                "name_en": names[0], "name_ru": names[1], "name_zh": names[2], "name_kk": names[3],
                "name_uz": names[4], "flag": flag, "position": position,
            },
        )
        storefront.markets.set(markets)
        storefront.warehouses.set(warehouses)
    return {"storefronts": Storefront.objects.count(), "categories": load_categories()}


# slug, parent, icon, (en, ru, zh, kk, uz)
CATEGORIES = [
    ("food", None, "🍯", ("Food and drinks", "Продукты и напитки", "食品饮料", "Азық-түлік", "Oziq-ovqat")),
    ("honey", "food", "", ("Honey", "Мёд", "蜂蜜", "Бал", "Asal")),
    ("dried-fruit-nuts", "food", "", ("Dried fruit and nuts", "Сухофрукты и орехи", "干果坚果", "Кептірілген жемістер", "Quruq mevalar")),
    ("grain-flour", "food", "", ("Grain and flour", "Зерно и мука", "粮食面粉", "Астық және ұн", "Don va un")),
    ("oils", "food", "", ("Vegetable oils", "Растительные масла", "食用油", "Өсімдік майы", "Oʻsimlik yogʻi")),
    ("sweets", "food", "", ("Sweets and chocolate", "Сладости и шоколад", "糖果巧克力", "Тәттілер", "Shirinliklar")),
    ("tea", "food", "", ("Tea and spices", "Чай и специи", "茶叶香料", "Шай және дәмдеуіштер", "Choy va ziravorlar")),
    ("textiles", None, "🧵", ("Textiles", "Текстиль", "纺织品", "Тоқыма", "Toʻqimachilik")),
    ("cotton", "textiles", "", ("Cotton and fabrics", "Хлопок и ткани", "棉花面料", "Мақта және мата", "Paxta va matolar")),
    ("wool-felt", "textiles", "", ("Wool and felt", "Шерсть и войлок", "羊毛毡制品", "Жүн және киіз", "Jun va kigiz")),
    ("carpets", "textiles", "", ("Carpets", "Ковры", "地毯", "Кілемдер", "Gilamlar")),
    ("clothing", None, "👕", ("Clothing and shoes", "Одежда и обувь", "服装鞋履", "Киім және аяқ киім", "Kiyim va poyabzal")),
    ("tops", "clothing", "", ("T-shirts and tops", "Футболки и кофты", "T恤上衣", "Футболкалар", "Futbolkalar")),
    ("trousers", "clothing", "", ("Trousers", "Брюки", "裤子", "Шалбар", "Shimlar")),
    ("shoes", "clothing", "", ("Shoes", "Обувь", "鞋", "Аяқ киім", "Poyabzal")),
    ("bags", "clothing", "", ("Bags", "Сумки", "箱包", "Сөмкелер", "Sumkalar")),
    ("electronics", None, "📱", ("Electronics", "Электроника", "电子产品", "Электроника", "Elektronika")),
    ("phones", "electronics", "", ("Phones", "Телефоны", "手机", "Телефондар", "Telefonlar")),
    ("laptops", "electronics", "", ("Laptops", "Ноутбуки", "笔记本电脑", "Ноутбуктер", "Noutbuklar")),
    ("audio", "electronics", "", ("Headphones and speakers", "Наушники и колонки", "耳机音箱", "Құлаққаптар", "Quloqchinlar")),
    ("chargers", "electronics", "", ("Chargers and batteries", "Зарядки и аккумуляторы", "充电器电池", "Зарядтағыштар", "Quvvatlagichlar")),
    ("tv-video", "electronics", "", ("TV and video", "Телевизоры и видео", "电视影音", "Теледидарлар", "Televizorlar")),
    ("home", None, "🏠", ("Home and household", "Дом и быт", "家居日用", "Үй тауарлары", "Uy-roʻzgʻor")),
    ("appliances", "home", "", ("Home appliances", "Бытовая техника", "家用电器", "Тұрмыстық техника", "Maishiy texnika")),
    ("kitchen", "home", "", ("Kitchenware", "Посуда", "厨具", "Ыдыс-аяқ", "Oshxona buyumlari")),
    ("furniture", "home", "", ("Furniture", "Мебель", "家具", "Жиһаз", "Mebel")),
    ("toys", "home", "", ("Toys", "Игрушки", "玩具", "Ойыншықтар", "Oʻyinchoqlar")),
    ("beauty", "home", "", ("Beauty", "Красота", "美妆", "Сұлулық", "Goʻzallik")),
    ("auto", None, "🚲", ("Auto and bikes", "Авто и велосипеды", "汽配单车", "Авто және велосипед", "Avto va velosiped")),
    ("auto-parts", "auto", "", ("Car parts", "Автозапчасти", "汽车配件", "Автобөлшектер", "Avtoehtiyot qismlar")),
    ("e-bikes", "auto", "", ("E-bikes", "Электровелосипеды", "电动自行车", "Электровелосипедтер", "Elektrovelosipedlar")),
    ("solar", "auto", "", ("Solar panels", "Солнечные панели", "太阳能板", "Күн панельдері", "Quyosh panellari")),
]


def load_categories() -> int:
    from .models import Category

    by_slug: dict[str, Category] = {}
    for position, (slug, parent, icon, names) in enumerate(CATEGORIES):
        parent_obj = by_slug[parent] if parent else None
        path = f"{parent_obj.path}/{slug}" if parent_obj else slug
        category, _ = Category.objects.update_or_create(
            slug=slug,
            defaults={"parent": parent_obj, "path": path, "icon": icon, "position": position,
                      "name_en": names[0], "name_ru": names[1], "name_zh": names[2], "name_kk": names[3],
                      "name_uz": names[4]},
        )
        by_slug[slug] = category
    return len(by_slug)
