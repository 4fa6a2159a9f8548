"""Focus sessions' periodic work. Every tick is idempotent (a conditional UPDATE or a
unique constraint claims each piece of work), so two beats or a redelivery do no harm."""
