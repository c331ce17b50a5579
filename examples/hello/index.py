def handler(event, context):
    return {"statusCode": 200, "body": "hello from version 1"}
