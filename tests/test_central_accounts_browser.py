"""The administrators' "Accounts and audit" page in a real browser (headless Chromium), under
the server's Content-Security-Policy: the stylesheet applies, the menu leads there, a click
disables an account and ends its session, and screenshots go to artifacts/central/."""

from selenium.webdriver.common.by import By

from tests.central_server import PASSWORD
from tests.test_central_browser import arrive, browser, network, shot  # noqa: F401 (fixtures)
from tests.test_central_pages import signed_in


def test_accounts_page_disables_an_account(browser, network):  # noqa: F811
    liling = signed_in(network, "liling")
    browser.get(network.url + "/login")
    browser.find_element(By.ID, "name").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    arrive(browser, lambda d: d.current_url.endswith("/fleet"))
    # The inline stylesheet carries the policy's nonce, so the page is styled.
    header = browser.find_element(By.TAG_NAME, "header")
    assert header.value_of_css_property("background-color") == "rgba(29, 78, 137, 1)"
    browser.find_element(By.LINK_TEXT, "账户与审计").click()
    arrive(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "账户与审计")
    users = [r.get_attribute("data-user") for r in
             browser.find_elements(By.CSS_SELECTOR, "#accounts tbody tr")]
    assert users == ["admin", "liling", "sanhe"]
    actions = [r.get_attribute("data-action") for r in
               browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
    assert actions[:2] == ["sign_in", "sign_in"]
    browser.find_element(By.CSS_SELECTOR, '#accounts tr[data-user="liling"] button').click()
    arrive(browser, lambda d: "已于" in d.find_element(
        By.CSS_SELECTOR, '#accounts tr[data-user="liling"]').text)
    row = browser.find_element(By.CSS_SELECTOR, '#accounts tr[data-user="liling"]')
    assert row.find_element(By.TAG_NAME, "button").text == "启用"
    assert browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")[0].get_attribute(
        "data-action") == "user_disabled"
    shot(browser, "6-accounts-zh", height=1100)
    assert "/login" in liling.get(network.url + "/fleet", timeout=10).url
