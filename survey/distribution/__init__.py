"""Distribution: launching a campaign, the message queue and its sender, webhooks and status.

- `operations`: launch, close, reminders, opt-out and the dispositions they set;
- `rendering`: the email and SMS texts, rendered once per group with placeholders;
- `backends`: outbox files, SMTP, SendGrid and Twilio behind one interface;
- `worker`: the sender that claims due messages from the Message table and records outcomes;
- `views`: the webhooks, the one-click unsubscribe and the manager's pages;
- `status`: the fieldwork figures of `barometre campaigns status` and the campaign page.
"""
