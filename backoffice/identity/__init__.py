"""Who a chat account is: link codes from the portal, the links of chats to citizens, attempts."""
