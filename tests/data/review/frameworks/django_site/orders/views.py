import time

from django.http import JsonResponse
from django.views import View


async def order_detail(request, pk: int):
    time.sleep(0.1)  # expect: TH101
    return JsonResponse({"id": pk})


class RecentOrders(View):
    async def get(self, request):
        time.sleep(0.1)  # expect: TH101
        return JsonResponse({"orders": []})
