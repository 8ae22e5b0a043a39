DROP INDEX users_one_owner;
