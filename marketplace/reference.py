"""The storefronts of PRODUCT.md §2."""

from .models import Storefront

# code, kind, seller country, currency, default language, markets, warehouses, names, flag
STOREFRONTS = [
    ("kz", "pavilion", "KZ", "CNY", "zh-hans", ["CN"], ["LHW", "KHG"],
     ("Kazakhstan pavilion", "Павильон Казахстана", "哈萨克斯坦国家馆"), "🇰🇿"),
    ("kg", "pavilion", "KG", "CNY", "zh-hans", ["CN"], ["LHW"],
     ("Kyrgyzstan pavilion", "Павильон Кыргызстана", "吉尔吉斯斯坦国家馆"), "🇰🇬"),
    ("uz", "pavilion", "UZ", "CNY", "zh-hans", ["CN"], ["LHW"],
     ("Uzbekistan pavilion", "Павильон Узбекистана", "乌兹别克斯坦国家馆"), "🇺🇿"),
    ("tj", "pavilion", "TJ", "CNY", "zh-hans", ["CN"], ["LHW"],
     ("Tajikistan pavilion", "Павильон Таджикистана", "塔吉克斯坦国家馆"), "🇹🇯"),
    ("tm", "pavilion", "TM", "CNY", "zh-hans", ["CN"], ["LHW"],
     ("Turkmenistan pavilion", "Павильон Туркменистана", "土库曼斯坦国家馆"), "🇹🇲"),
    ("cn-uz", "china_goods", "CN", "UZS", "uz", ["UZ"], ["TAS"],
     ("China goods in Uzbekistan", "Китайские товары в Узбекистане", "中国商品·乌兹别克斯坦"), "🇨🇳"),
    ("cn-kz", "china_goods", "CN", "KZT", "ru", ["KZ"], ["ALA"],
     ("China goods in Kazakhstan", "Китайские товары в Казахстане", "中国商品·哈萨克斯坦"), "🇨🇳"),
]


def load() -> dict[str, int]:
    for position, (code, kind, country, currency, language, markets, warehouses, names, flag) in enumerate(STOREFRONTS):
        storefront, _ = Storefront.objects.update_or_create(
            code=code,
            defaults={
                "kind": kind, "seller_country_id": country, "currency_id": currency, "default_language": language,
                "name_en": names[0], "name_ru": names[1], "name_zh": names[2], "flag": flag, "position": position,
            },
        )
        storefront.markets.set(markets)
        storefront.warehouses.set(warehouses)
    return {"storefronts": Storefront.objects.count()}
