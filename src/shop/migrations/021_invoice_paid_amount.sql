-- Invoices (Salesforce Invoice__c -> shop): the amount paid so far follows the org's Paid_Amount__c.
ALTER TABLE invoices ADD COLUMN paid_amount numeric(12,2) NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD CONSTRAINT invoices_paid_amount_not_negative CHECK (paid_amount >= 0);
