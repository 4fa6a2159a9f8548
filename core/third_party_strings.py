"""Strings of django-allauth's pages, Django's password rules and Django's form errors that
our Spanish says differently: their catalogues speak formally ("usted"), the community says
"tú". And a few of django-countries' names, which its Spanish catalogue gives in their
formal style ("Principado de Andorra", sorted under P) or misspelt ("Trinidad yTobago").

Listing them here puts them in our own catalogue (`make messages`), which Django reads
before the packages' (LOCALE_PATHS come first). Nothing imports this module; the msgids
must stay exactly the packages' own, apostrophes included.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

ALLAUTH = [
    gettext_noop("The email address and/or password you specified are not correct."),
    gettext_noop("You must type the same password each time."),
    gettext_noop("Forgot your password?"),
    gettext_noop("Please reauthenticate to safeguard your account."),
    gettext_noop("The following email addresses are associated with your account:"),
    gettext_noop("Your password has been set."),
    gettext_noop(
        'Please confirm that <a href="mailto:%(email)s">%(email)s</a> is an email address '
        "for user %(user_display)s."
    ),
    gettext_noop(
        "If you have not created an account yet, then please %(link)ssign up%(end_link)s first."
    ),
    gettext_noop("Are you sure you want to sign out?"),
    gettext_noop("You have confirmed %(email)s."),
    gettext_noop("Successfully signed in as %(name)s."),
    gettext_noop("You have signed out."),
    gettext_noop(
        "Forgotten your password? Enter your email address below, and we'll send you an "
        "email allowing you to reset it."
    ),
    gettext_noop("Please contact us if you have any trouble resetting your password."),
    gettext_noop(
        "We have sent you an email. If you have not received it please check your spam "
        "folder. Otherwise contact us if you do not receive it in a few minutes."
    ),
    gettext_noop("Enter your password:"),
    gettext_noop("Already have an account? Then please %(link)ssign in%(end_link)s."),
    gettext_noop("Verify Your Email Address"),
    gettext_noop(
        "We have sent an email to you for verification. Follow the link provided to finalize "
        "the signup process. If you do not see the verification email in your main inbox, "
        "check your spam folder. Please contact us if you do not receive the verification "
        "email within a few minutes."
    ),
    gettext_noop("Do you really want to remove the selected email address?"),
    gettext_noop("You are already logged in as %(user_display)s."),
    gettext_noop(
        "You currently do not have any email address set up. You should really add an email "
        "address so you can receive notifications, reset your password, etc."
    ),
    gettext_noop("You are about to connect a new third-party account from %(provider)s."),
    gettext_noop("You are about to sign in using a third-party account from %(provider)s."),
    gettext_noop("Or use a third-party"),
]

DJANGO_PASSWORDS = [
    gettext_noop("Your old password was entered incorrectly. Please enter it again."),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "min_length",
    ),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
    gettext_noop("The password is too similar to the %(verbose_name)s."),
]

DJANGO_FORMS = [
    gettext_noop("Enter a valid value."),
    gettext_noop("Enter a valid URL."),
    gettext_noop("Enter a valid integer."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Ensure this value is less than or equal to %(limit_value)s."),
    gettext_noop("Ensure this value is greater than or equal to %(limit_value)s."),
    ngettext_lazy(
        "Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
        "n",
    ),
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "n",
    ),
    gettext_noop("Enter a number."),
    gettext_noop("Enter a whole number."),
    gettext_noop("Enter a valid date."),
    gettext_noop("Enter a valid time."),
    gettext_noop("Enter a valid date/time."),
    gettext_noop("Enter a valid duration."),
    gettext_noop("No file was submitted. Check the encoding type on the form."),
    gettext_noop("No file was submitted."),
    gettext_noop("The submitted file is empty."),
    ngettext_lazy(
        "Ensure this filename has at most %(max)d character (it has %(length)d).",
        "Ensure this filename has at most %(max)d characters (it has %(length)d).",
        "n",
    ),
    gettext_noop("Please either submit a file or check the clear checkbox, not both."),
    gettext_noop(
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
    ),
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
    gettext_noop("Select a valid choice. That choice is not one of the available choices."),
    gettext_noop("Enter a list of values."),
    gettext_noop("Enter a complete value."),
]

ALLAUTH_MORE = [
    gettext_noop("Too many failed login attempts. Try again later."),
    gettext_noop("A third-party account from %(provider)s has been connected to your account."),
    gettext_noop(
        "A third-party account from %(provider)s has been disconnected from your account."
    ),
    gettext_noop("Third-Party Account Connected"),
    gettext_noop("Third-Party Account Disconnected"),
    gettext_noop("Add a Third-Party Account"),
    gettext_noop("The third-party account has been connected."),
    gettext_noop("The third-party account has been disconnected."),
    gettext_noop("You cannot disconnect your last remaining third-party account."),
    gettext_noop("You cannot remove your primary email address."),
    gettext_noop("You cannot remove your primary email address (%(email)s)."),
    gettext_noop("Please type your current password."),
    gettext_noop("Your primary email address must be verified."),
    gettext_noop(
        "An account already exists with this email address. Please sign in to "
        "that account first, then connect your %s account."
    ),
    gettext_noop("Your account has no password set up."),
    gettext_noop("Your account has no verified email address."),
    gettext_noop("Password Reset"),
    gettext_noop("Your email address is still pending verification."),
    gettext_noop(
        "This email confirmation link expired or is invalid. Please <a "
        'href="%(email_url)s">issue a new email confirmation request</a>.'
    ),
    gettext_noop("Forgot Password?"),
    gettext_noop(
        "The password reset link was invalid, possibly because it has already "
        'been used.  Please request a <a href="%(passwd_reset_url)s">new '
        "password reset</a>."
    ),
    gettext_noop("Your password is now changed."),
    gettext_noop(
        "This part of the site requires us to verify that\nyou are who you claim "
        "to be. For this purpose, we require that you\nverify ownership of your "
        "email address. "
    ),
    gettext_noop(
        "We have sent an email to you for\nverification. Please click on the link "
        "inside that email. If you do not see the verification email in your "
        "main inbox, check your spam folder. Otherwise\ncontact us if you do not "
        "receive it within a few minutes."
    ),
    gettext_noop("Account Connections"),
    gettext_noop("Are you sure?"),
    gettext_noop("An error occurred while attempting to login via your third-party account."),
    gettext_noop(
        "You can sign in to your account using any of the following third-party accounts:"
    ),
    gettext_noop("You currently have no third-party accounts connected to this account."),
    gettext_noop(
        "You decided to cancel logging in to our site using one of your existing "
        "accounts. If this was a mistake, please proceed to <a "
        'href="%(login_url)s">sign in</a>.'
    ),
    gettext_noop(
        "You are about to use your %(provider_name)s account to login "
        "to\n%(site_name)s. As a final step, please complete the following form:"
    ),
]

COUNTRIES = [
    gettext_noop("Andorra"),
    gettext_noop("Chad"),
    gettext_noop("Cyprus"),
    gettext_noop("Djibouti"),
    gettext_noop("Trinidad and Tobago"),
    gettext_noop("Central African Republic"),
]
