app_name = "customs"
urlpatterns: list = []
